package dev.bertj.cli;

import java.io.BufferedReader;
import java.io.PrintStream;

/**
 * {@code ./bertj spark-embed}: listed here so that {@code ./bertj --help} shows it, but run by the
 * bertj-spark module ({@code dev.bertj.spark.EmbedJob}): the launcher puts that module and Spark on
 * the class path for this command only, so bertj-core itself never depends on Spark.
 */
final class SparkEmbedCommand implements Command {
    @Override
    public String name() {
        return "spark-embed";
    }

    @Override
    public String summary() {
        return "embed or classify a file on Apache Spark (module bertj-spark), JSON Lines part files out";
    }

    @Override
    public String help() {
        return """
                Usage: ./bertj spark-embed --master local[2] --input FILE --output DIR --model M [--classify]
                                           [--format jsonl|parquet|text] [--text-col text] [--max-length N]

                Runs the bertj-spark job (dev.bertj.spark.EmbedJob) in this process on Spark: the ./bertj
                launcher builds bertj-spark on first use and adds it and Spark to the class path for this
                command only. On a cluster, hand bertj-spark's job jar to spark-submit instead (README,
                "Run on Spark").
                """;
    }

    @Override
    public int run(String[] argv, BufferedReader in, PrintStream out, PrintStream err) {
        err.println("bertj spark-embed: this JVM has no bertj-spark on its class path; run it through ./bertj spark-embed"
                + " (which adds bertj-spark and Spark) or spark-submit --class dev.bertj.spark.EmbedJob");
        return 1;
    }
}
