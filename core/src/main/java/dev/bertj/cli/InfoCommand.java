package dev.bertj.cli;

import dev.bertj.cpu.Vectorization;

import java.io.BufferedReader;
import java.io.PrintStream;

/** {@code ./bertj info}: what this JVM gives bertj (for bug reports and benchmarks). */
final class InfoCommand implements Command {
    @Override
    public String name() {
        return "info";
    }

    @Override
    public String summary() {
        return "show the JDK, CPU cores, kernels in use and the model cache";
    }

    @Override
    public String help() {
        return """
                Usage: ./bertj info

                Prints the Java version, the number of cores, which CPU kernels bertj uses (Vector API
                at some width, or scalar when jdk.incubator.vector is missing), and the cache folder.
                """;
    }

    @Override
    public int run(String[] argv, BufferedReader in, PrintStream out, PrintStream err) {
        new Args(name(), argv, java.util.Set.of(), java.util.Set.of());
        out.println("java:    " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")");
        out.println("cores:   " + Runtime.getRuntime().availableProcessors());
        out.println("kernels: " + Vectorization.kernels().name());
        out.println("cache:   " + ModelCache.root());
        return 0;
    }
}
