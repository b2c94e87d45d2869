/** The README's example as a named module: bertj-core is the module dev.bertj. */
module example {
    requires dev.bertj;
}
