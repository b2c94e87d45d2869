package dev.bertj.cli;

import java.io.BufferedReader;
import java.io.PrintStream;

/** One {@code ./bertj} subcommand. */
interface Command {
    /** The name users type. */
    String name();

    /** One line for {@code ./bertj --help}. */
    String summary();

    /** The full text of {@code ./bertj <name> --help}. */
    String help();

    /** Runs the command; returns the exit status. */
    int run(String[] argv, BufferedReader in, PrintStream out, PrintStream err) throws Exception;
}
