/**
 * bertj: BERT written from scratch in pure Java, with no runtime dependencies.
 *
 * <p>The Vector API is optional: without {@code jdk.incubator.vector} bertj logs one line and runs
 * scalar kernels.
 */
module dev.bertj {
    requires static jdk.incubator.vector;
    requires java.logging;
    requires jdk.httpserver;

    exports dev.bertj.api;
    exports dev.bertj.tokenizer;
    exports dev.bertj.io;
    exports dev.bertj.tensor;
    exports dev.bertj.nn;
    exports dev.bertj.model;
    exports dev.bertj.cpu;
    exports dev.bertj.cli;
    exports dev.bertj.train;
    exports dev.bertj.data;
    exports dev.bertj.backend;
    exports dev.bertj.serve;
    exports dev.bertj.explain;
    exports dev.bertj.report;

    uses dev.bertj.backend.BackendProvider;
    provides dev.bertj.backend.BackendProvider with dev.bertj.cpu.CpuBackendProvider;
}
