package dev.bertj.spark;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.LongAccumulator;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import static org.apache.spark.sql.functions.col;

/**
 * The batch job: embeds (or classifies) a text column and writes JSON Lines part files, one object per
 * input row, in the input's order within each part: {@code {"text": ..., "embedding": [...]}} or
 * {@code {"text": ..., "label": ..., "probability": ...}} (null outputs for null or empty texts).
 * <pre>
 * spark-submit --class dev.bertj.spark.EmbedJob bertj-spark-VERSION-job.jar \
 *     --input PATH --format jsonl|parquet|text --text-col text --output PATH --model M [--classify]
 * </pre>
 * {@code ./bertj spark-embed --master local[2] ...} runs the same job in-process. Options beyond the
 * required ones: {@code --max-length N}, {@code --batch-size N}, {@code --pooling mean|cls|max},
 * {@code --normalize}, {@code --master URL} (default: spark-submit's, else {@code local[*]}). As with
 * {@code ./bertj embed}, pooling is mean and vectors are not normalised unless the options say so.
 */
public final class EmbedJob {
    private static final Set<String> VALUED = Set.of("input", "format", "text-col", "output", "model", "master", "max-length",
            "batch-size", "pooling");
    private static final Set<String> FLAGS = Set.of("classify", "normalize");
    static final String USAGE = """
            Usage: EmbedJob --input PATH --output DIR --model M [--format jsonl|parquet|text] [--text-col text]
                            [--classify] [--max-length N] [--batch-size N] [--pooling mean|cls|max] [--normalize]
                            [--master URL]

            Reads texts (jsonl: one JSON object per line; parquet; text: one text per line), embeds the column
            --text-col (default text) with bertj on the executors, or with --classify labels it with a
            classification checkpoint, and writes DIR as JSON Lines part files:
              {"text": ..., "embedding": [...]}   or   {"text": ..., "label": ..., "probability": ...}
            Pooling is mean, vectors not normalised (as ./bertj embed) unless --pooling / --normalize say so;
            --max-length defaults to the model's own limit. Null and empty texts give null outputs; their rows
            stay. M is a model directory every executor
            can read, default, bert-base-uncased, or spark-files:NAME (shipped with --archives model.zip#NAME).
            """;

    private EmbedJob() { }

    /** The job's options, parsed. */
    record Options(String input, String format, String textCol, String output, String model, boolean classify,
                   String master, int maxLength, int batchSize, String pooling, boolean normalize) { }

    /** A usage error (exit status 2). */
    static final class UsageException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    /** Entry point for spark-submit and {@code ./bertj spark-embed}; exits 0, 1 (the job failed) or 2 (usage). */
    public static void main(String[] args) {
        int status = run(args, System.err);
        if (status != 0) System.exit(status);
    }

    /** Parses {@code args}, runs the job in a session of its own (or spark-submit's) and returns the exit status. */
    static int run(String[] args, PrintStream err) {
        Options o;
        try {
            if (List.of(args).contains("--help") || List.of(args).contains("-h")) {
                err.print(USAGE);
                return 0;
            }
            o = parse(args);
        } catch (UsageException e) {
            err.println("bertj spark-embed: " + e.getMessage() + " (--help lists the options)");
            return 2;
        }
        SparkSession.Builder b = SparkSession.builder().appName("bertj " + (o.classify() ? "classify" : "embed"));
        if (o.master() != null) b.master(o.master());
        else if (!new org.apache.spark.SparkConf().contains("spark.master")) b.master("local[*]");
        // A session that already runs (a notebook's, a test's) is used and left running.
        boolean ours = SparkSession.getActiveSession().isEmpty() && SparkSession.getDefaultSession().isEmpty();
        SparkSession spark = b.getOrCreate();
        try {
            long t0 = System.nanoTime();
            long loads = run(spark, o);
            err.printf(Locale.ROOT, "bertj spark-embed: wrote %s in %.1f s (%d model load%s on the executors)%n", o.output(),
                    (System.nanoTime() - t0) / 1e9, loads, loads == 1 ? "" : "s");
            return 0;
        } catch (RuntimeException e) {
            err.println("bertj spark-embed: " + describe(e));
            return 1;
        } finally {
            if (ours) spark.stop();
        }
    }

    /** Runs the job on {@code spark}; returns how many times executors loaded the model. */
    static long run(SparkSession spark, Options o) {
        LongAccumulator loads = spark.sparkContext().longAccumulator("bertj model loads");
        Dataset<Row> texts = read(spark, o).select(col(o.textCol()).as("text"));
        Dataset<Row> out;
        if (o.classify()) {
            BertjClassifier c = new BertjClassifier().setInputCol("text").setModel(o.model()).setBatchSize(o.batchSize())
                    .setMaxLength(o.maxLength()).setLoadCounter(loads);
            out = c.transform(texts);
        } else {
            BertjEmbedder e = new BertjEmbedder().setInputCol("text").setModel(o.model()).setBatchSize(o.batchSize())
                    .setMaxLength(o.maxLength()).setLoadCounter(loads);
            // ./bertj embed's defaults (mean pooling, no normalisation), not the model's sentence-transformers
            // files: the job's output is the command line's.
            e.setPooling(o.pooling() != null ? o.pooling() : "mean").setNormalize(o.normalize());
            out = e.transform(texts);
        }
        // Spark's JSON writer drops null fields by default; the contract is one object with every key per row.
        out.write().option("ignoreNullFields", "false").json(o.output());
        return loads.value();
    }

    /** The input as a DataFrame with (at least) the text column. */
    static Dataset<Row> read(SparkSession spark, Options o) {
        return switch (o.format()) {
            // The schema is given, not inferred: inference would read all the input once more. Other keys are ignored.
            case "jsonl" -> spark.read().schema(new StructType().add(o.textCol(), DataTypes.StringType)).option("mode", "FAILFAST").json(o.input());
            case "parquet" -> spark.read().parquet(o.input());
            case "text" -> spark.read().text(o.input()).withColumnRenamed("value", o.textCol());
            default -> throw new UsageException("--format must be jsonl, parquet or text, got '" + o.format() + "'");
        };
    }

    static Options parse(String[] args) {
        Map<String, String> v = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) throw new UsageException("unexpected argument '" + a + "'");
            String name = a.substring(2), value = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (FLAGS.contains(name)) {
                if (value != null) throw new UsageException("--" + name + " takes no value");
                v.put(name, "true");
            } else if (VALUED.contains(name)) {
                if (value == null) {
                    if (i + 1 >= args.length) throw new UsageException("--" + name + " needs a value");
                    value = args[++i];
                }
                v.put(name, value);
            } else {
                throw new UsageException("unknown option --" + name);
            }
        }
        for (String required : List.of("input", "output", "model")) {
            if (!v.containsKey(required)) throw new UsageException("--" + required + " is required");
        }
        String format = v.getOrDefault("format", "jsonl");
        if (!List.of("jsonl", "parquet", "text").contains(format)) throw new UsageException("--format must be jsonl, parquet or text, got '" + format + "'");
        String pooling = v.get("pooling");
        if (pooling != null && !List.of("mean", "cls", "max").contains(pooling)) throw new UsageException("--pooling must be mean, cls or max, got '" + pooling + "'");
        boolean classify = v.containsKey("classify");
        if (classify && (pooling != null || v.containsKey("normalize"))) throw new UsageException("--pooling and --normalize are for embeddings, not with --classify");
        return new Options(v.get("input"), format, v.getOrDefault("text-col", "text"), v.get("output"), v.get("model"), classify,
                v.get("master"), intValue(v, "max-length", 0, 2), intValue(v, "batch-size", 32, 1), pooling, v.containsKey("normalize"));
    }

    private static int intValue(Map<String, String> v, String name, int dflt, int min) {
        if (!v.containsKey(name)) return dflt;
        try {
            int n = Integer.parseInt(v.get(name));
            if (n < min) throw new UsageException("--" + name + " must be at least " + min + ", got " + n);
            return n;
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " must be a whole number, got '" + v.get(name) + "'");
        }
    }

    /** One sentence for a failed job: the model's own sentence when that is what failed, else Spark's first line. */
    static String describe(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ModelLoadException) return t.getMessage();
        }
        String m = e.getMessage() == null ? e.toString() : e.getMessage();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
