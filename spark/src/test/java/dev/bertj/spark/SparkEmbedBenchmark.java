package dev.bertj.spark;

import dev.bertj.api.Pooling;
import dev.bertj.api.SentenceEmbedder;
import dev.bertj.data.Email;
import dev.bertj.io.Cache;
import dev.bertj.io.Json;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.LongAccumulator;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Spark {@code local[2]} against bertj in-process on the same 10,000 real SpamAssassin texts, in one JVM,
 * interleaved round by round so that both see the same machine load. Not a test: run it by hand
 * (bench/RESULTS.md, "Spark"), it asserts no speed.
 * <ul>
 *   <li>Texts: the first 10,000 paragraphs (blank-line-separated blocks of at least 20 characters) of the
 *       e-mails' text as the classifier sees it ({@link Email#toText}: subject and body, no headers), in
 *       corpus order; all-MiniLM-L6-v2, mean pooling, normalised, truncated at 128 tokens.</li>
 *   <li>{@code in-process}: {@link SentenceEmbedder#embed(List)} on all 10,000 at once (sorted by length
 *       over the whole set: the least padding there is).</li>
 *   <li>{@code in-process-1024}: the same in calls of 1,024 texts, the chunk a Spark partition uses.</li>
 *   <li>{@code spark-noop}: {@link BertjEmbedder} on a cached DataFrame (2 partitions), written to Spark's
 *       {@code noop} sink: Spark's task overhead without I/O.</li>
 *   <li>{@code spark-job}: {@link EmbedJob} as {@code ./bertj spark-embed} runs it: JSON Lines file in,
 *       JSON Lines part files out (session already up).</li>
 *   <li>{@code spark-io-only}: the same job with a model that returns a constant vector: what reading,
 *       row conversion and writing 10,000 rows of 384 floats cost without the model.</li>
 * </ul>
 * Arguments: {@code [texts (10000)]}; {@code -Dsequence=a,b,...} sets the runs and their order. Needs the corpus ({@code scripts/fetch-spamassassin.sh})
 * and the default model in bertj's cache ({@code ./bertj embed --model default} once).
 */
public final class SparkEmbedBenchmark {
    private SparkEmbedBenchmark() { }

    /** The benchmark texts: paragraphs of the corpus e-mails' text. */
    static List<String> paragraphs(int count) throws IOException {
        Path file = Cache.spamAssassinEmails();
        if (!Files.isRegularFile(file)) throw new IOException(file + " not found: run scripts/fetch-spamassassin.sh first");
        List<String> out = new ArrayList<>(count);
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.isBlank()) continue;
            String raw = Json.asString(Json.asObject(Json.parse(line, file.toString()), "line").get("text"), "text");
            for (String p : Email.toText(raw).split("\\n\\s*\\n")) {
                String t = p.strip();
                if (t.length() < 20) continue;
                out.add(t);
                if (out.size() == count) return out;
            }
        }
        throw new IOException(file + " has only " + out.size() + " paragraphs, fewer than " + count);
    }

    private static String load() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException e) {
            return "?";
        }
    }

    /** One measured variant. */
    @FunctionalInterface
    private interface Callable {
        void call() throws Exception;
    }

    /** A compute with no model: a constant vector per text (what the I/O-only run measures around). */
    private record NoModel() implements PartitionRunner.Compute {
        @Override
        public Object[][] apply(List<String> texts) {
            Object[][] out = new Object[texts.size()][];
            for (int i = 0; i < out.length; i++) out[i] = new Object[] {new float[384]};
            return out;
        }
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        System.out.printf(Locale.ROOT, "SparkEmbedBenchmark: java %s, %d cores, load %s%n", System.getProperty("java.version"),
                Runtime.getRuntime().availableProcessors(), load());
        List<String> texts = paragraphs(n);
        long chars = texts.stream().mapToLong(String::length).sum();
        Path model = dev.bertj.api.ModelResolver.resolve("default");

        long t0 = System.nanoTime();
        SparkSession spark = SparkSession.builder().master("local[2]").appName("bertj spark benchmark")
                .config("spark.ui.enabled", "false").config("spark.driver.bindAddress", "127.0.0.1").config("spark.driver.host", "127.0.0.1")
                .getOrCreate();
        double sessionSeconds = (System.nanoTime() - t0) / 1e9;

        try (SentenceEmbedder in = SentenceEmbedder.builder(model).pooling(Pooling.MEAN).normalize(true).maxLength(128).build()) {
            var opts = dev.bertj.tokenizer.EncodeOptions.builder().truncation(dev.bertj.tokenizer.EncodeOptions.Truncation.LONGEST_FIRST)
                    .maxLength(128).build();
            long tokens = 0;
            for (String t : texts) tokens += in.tokenizer().encode(t, null, opts).length();
            System.out.printf(Locale.ROOT, "texts %d, %d chars, %d tokens after truncation at 128 (mean %.1f); session start %.1f s; load %s%n",
                    n, chars, tokens, (double) tokens / n, sessionSeconds, load());

            Path work = Files.createTempDirectory("bertj-spark-bench");
            Path input = work.resolve("texts.jsonl");
            StringBuilder sb = new StringBuilder();
            for (String t : texts) sb.append("{\"text\":").append(Json.write(t)).append("}\n");
            Files.writeString(input, sb);
            StructType schema = new StructType().add("text", DataTypes.StringType);
            List<Row> rows = texts.stream().map(t -> RowFactory.create(t)).toList();
            Dataset<Row> cached = spark.createDataFrame(rows, schema).repartition(2).cache();
            cached.count();
            LongAccumulator loads = spark.sparkContext().longAccumulator("bertj model loads");
            BertjEmbedder embedder = new BertjEmbedder().setModel(model.toString()).setPooling("mean").setNormalize(true).setMaxLength(128)
                    .setLoadCounter(loads);

            // Warm-up: JIT of both paths and the executor-side model load (in this JVM: local mode).
            in.embed(texts.subList(0, 512));
            embedder.transform(cached.limit(512)).write().format("noop").mode("overwrite").save();
            System.out.printf(Locale.ROOT, "warm-up done; executor-side model loads so far: %d; load %s%n", loads.value(), load());

            // Each variant once per round, in this order, so that all of them see the same (shared) machine's load.
            Map<String, Callable> variants = new java.util.LinkedHashMap<>();
            float[][][] ref = new float[1][][];
            int[] round = new int[1];
            Path[] jobOut = new Path[1];
            variants.put("in-process", () -> ref[0] = in.embed(texts));
            variants.put("in-process-1024", () -> {
                for (int from = 0; from < n; from += PartitionRunner.CHUNK) in.embed(texts.subList(from, Math.min(n, from + PartitionRunner.CHUNK)));
            });
            variants.put("spark-noop", () -> embedder.transform(cached).write().format("noop").mode("overwrite").save());
            variants.put("spark-job", () -> {
                Path out = work.resolve("out-" + round[0]);
                EmbedJob.run(spark, EmbedJob.parse(new String[] {"--input", input.toString(), "--output", out.toString(),
                        "--model", model.toString(), "--pooling", "mean", "--normalize", "--max-length", "128"}));
                jobOut[0] = out;
            });
            variants.put("spark-io-only", () -> {
                Path io = work.resolve("io-" + round[0]);
                Dataset<Row> read = EmbedJob.read(spark, EmbedJob.parse(new String[] {"--input", input.toString(), "--output", io.toString(), "--model", "x"}));
                StructType outSchema = read.schema().add("embedding", DataTypes.createArrayType(DataTypes.FloatType, false));
                read.mapPartitions(new PartitionRunner(0, 1, new NoModel()), Encoders.row(outSchema))
                        .write().option("ignoreNullFields", "false").json(io.toString());
            });
            // The runs in this order (ABBA-like: in-process first and last, the job twice between), so that
            // both sides see the same (shared) machine's load; -Dsequence=a,b,... changes it.
            List<String> sequence = List.of(System.getProperty("sequence",
                    "in-process,spark-job,spark-noop,spark-io-only,in-process-1024,spark-job,in-process").split(","));
            Map<String, List<Double>> seconds = new java.util.LinkedHashMap<>();
            for (String k : sequence) {
                Callable c = variants.get(k);
                if (c == null) throw new IllegalArgumentException("unknown variant " + k + "; variants: " + variants.keySet());
                seconds.computeIfAbsent(k, x -> new ArrayList<>());
                round[0]++;
                long s = System.nanoTime();
                c.call();
                seconds.get(k).add((System.nanoTime() - s) / 1e9);
                print(round[0], k, seconds, n);
            }
            // Outside the timing: the job wrote the in-process vectors (else the timing compares different work).
            if (jobOut[0] != null) check(jobOut[0], texts, ref[0] != null ? ref[0] : in.embed(texts));
            System.out.printf(Locale.ROOT, "%nmedian of each variant's runs (texts/s; throughput ratio to in-process):%n");
            double base = seconds.containsKey("in-process") ? median(seconds.get("in-process")) : Double.NaN;
            for (var e2 : seconds.entrySet()) {
                double m = median(e2.getValue());
                System.out.printf(Locale.ROOT, "  %-16s %7.2f s  %7.1f texts/s  %.3f  (runs: %s)%n", e2.getKey(), m, n / m, base / m,
                        e2.getValue().stream().map(x -> String.format(Locale.ROOT, "%.2f", x)).toList());
            }
            System.out.printf(Locale.ROOT, "executor-side model loads in all: %d; load %s%n", loads.value(), load());
        } finally {
            spark.stop();
        }
    }

    private static void print(int run, String what, Map<String, List<Double>> seconds, int n) {
        List<Double> l = seconds.get(what);
        double s = l.get(l.size() - 1);
        System.out.printf(Locale.ROOT, "run %d  %-16s %7.2f s  %7.1f texts/s  load %s%n", run, what, s, n / s, load());
    }

    private static double median(List<Double> l) {
        double[] a = l.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(a);
        return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }

    /** The job's vectors are the in-process ones (else the timing compares different work). */
    private static void check(Path out, List<String> texts, float[][] ref) throws IOException {
        Map<String, float[]> byText = new java.util.HashMap<>();
        for (int i = 0; i < texts.size(); i++) byText.put(texts.get(i), ref[i]);
        float max = 0;
        int rows = 0;
        for (Map<String, Object> row : EmbedJobTest.readParts(out)) {
            float[] v = SparkFixtures.floats(row.get("embedding"));
            max = Math.max(max, SparkFixtures.maxDiff(byText.get((String) row.get("text")), v));
            rows++;
        }
        System.out.printf(Locale.ROOT, "check: %d rows written, max abs diff to in-process %.3g%n", rows, max);
        if (rows != texts.size() || max > 1e-5f) throw new IllegalStateException("the Spark job's output differs from in-process");
    }
}
