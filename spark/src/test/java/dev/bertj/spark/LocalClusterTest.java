package dev.bertj.spark;

import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.LongAccumulator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The cluster-shaped test: {@code local-cluster[2,1,1024]}, a standalone master and two workers inside
 * this JVM, each worker starting one executor JVM (1 core, 1 GB) as a real cluster would. The model
 * reaches the executors as a real job ships it, {@code --archives minilm.zip#minilm} (Spark unpacks it
 * into each executor's SparkFiles directory), named {@code spark-files:minilm}; each executor JVM must
 * load it exactly once however many tasks it runs.
 *
 * <p>Spark starts executor JVMs from a Spark distribution ({@code SPARK_HOME/jars}); there is none
 * here, so the surefire execution {@code local-cluster} sets {@code spark.testing} (executors then get
 * this JVM's class path, Spark's own test mechanism) and {@code spark.test.home}, and the executors get
 * {@code SPARK_TESTING=1} (no jars directory required). Runs in its own JVM: one SparkContext per JVM.
 */
@Timeout(value = 600, unit = TimeUnit.SECONDS) // ~1 min on an idle 2-core machine; 5 min was seen under a load of 10
class LocalClusterTest {
    private static SparkSession spark;
    private static Path home;

    /** The model as a zip, shipped as a real cluster job ships it: {@code --archives minilm.zip#minilm}. */
    private static Path zip() throws IOException {
        Path dir = SparkFixtures.minilm(), zip = Files.createTempDirectory("bertj-spark-archive").resolve("minilm.zip");
        try (var out = new java.util.zip.ZipOutputStream(Files.newOutputStream(zip)); Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.filter(Files::isRegularFile).sorted().toList()) { // with 1_Pooling/config.json
                out.putNextEntry(new java.util.zip.ZipEntry(dir.relativize(f).toString().replace('\\', '/')));
                Files.copy(f, out);
                out.closeEntry();
            }
        }
        return zip;
    }

    @BeforeAll
    static void start() throws IOException {
        home = Path.of(System.getProperty("spark.test.home", "target/spark-home"));
        // What Spark's launcher looks for to tell the Scala version of a source build, in case the
        // executor environment's SPARK_SCALA_VERSION does not reach it.
        Files.createDirectories(home.resolve("launcher/target/scala-2.13"));
        spark = SparkSession.builder().master("local-cluster[2,1,1024]").appName("bertj local-cluster test")
                .config("spark.ui.enabled", "false")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.executor.memory", "1g")
                .config("spark.executorEnv.SPARK_TESTING", "1")
                .config("spark.executorEnv.SPARK_SCALA_VERSION", "2.13")
                .config("spark.executor.extraJavaOptions", "-XX:+UseParallelGC -Xss8m")
                .config("spark.archives", zip() + "#minilm")
                .getOrCreate();
    }

    @AfterAll
    static void stop() {
        if (spark != null) spark.stop();
    }

    /** Waits (bounded) until both executors have registered; on failure says why, with their stderr. */
    private static void awaitExecutors() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (spark.sparkContext().statusTracker().getExecutorInfos().length < 3) { // the driver counts as one
            if (System.nanoTime() > deadline) fail("the two executors did not register within 120 s; their stderr:\n" + executorLogs());
            Thread.sleep(200);
        }
    }

    private static String executorLogs() throws IOException {
        StringBuilder sb = new StringBuilder();
        Path work = home.resolve("work");
        if (!Files.isDirectory(work)) return "(no " + work + ")";
        try (Stream<Path> files = Files.walk(work)) {
            for (Path p : files.filter(f -> f.getFileName().toString().equals("stderr")).toList()) {
                List<String> lines = Files.readAllLines(p);
                sb.append("== ").append(p).append('\n').append(String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()))).append('\n');
            }
        }
        return sb.toString();
    }

    @Test
    void twoExecutorJvmsEachLoadTheModelOnce() throws Exception {
        awaitExecutors();
        List<String> texts = SparkFixtures.texts().subList(150, 270); // 50 e-mails (128 tokens) and 70 short texts
        Path dir = SparkFixtures.minilm();
        LongAccumulator loads = spark.sparkContext().longAccumulator("bertj model loads");
        long t0 = System.nanoTime();
        Dataset<Row> frame = SparkFixtures.frame(spark, texts, 8);
        List<Row> rows = new BertjEmbedder().setModel("spark-files:minilm").setPooling("mean").setNormalize(false).setMaxLength(128)
                .setLoadCounter(loads).transform(frame).select("id", "embedding").collectAsList();
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertEquals(texts.size(), rows.size());

        // Which JVM ran the tasks and how many models each has loaded (ExecutorModels' own count).
        Dataset<String> who = spark.range(0, 64, 1, 16).toDF().mapPartitions(
                (MapPartitionsFunction<Row, String>) it -> {
                    while (it.hasNext()) it.next();
                    Thread.sleep(300); // long enough that both executors get some of the 16 tasks
                    return List.of(ProcessHandle.current().pid() + ":" + ExecutorModels.loadsInThisJvm() + ":"
                            + dev.bertj.cpu.Vectorization.kernels().name()).iterator();
                }, Encoders.STRING());
        Map<String, Integer> perJvm = new TreeMap<>();
        Map<String, String> kernels = new TreeMap<>();
        for (String s : who.collectAsList()) {
            String[] f = s.split(":", 3);
            perJvm.put(f[0], Integer.parseInt(f[1]));
            kernels.put(f[0], f[2]);
        }
        System.err.printf("LocalClusterTest: %d texts in 8 partitions on 2 executors in %.1f s; model loads (accumulator) %d;"
                + " per executor JVM (pid=loads) %s; kernels %s%n", texts.size(), seconds, loads.value(), perJvm, kernels);
        assertEquals(2L, loads.value(), "one load per executor JVM");
        assertEquals(2, perJvm.size(), "two executor JVMs: " + perJvm);
        for (int n : perJvm.values()) assertEquals(1, n, "each executor loaded the model once: " + perJvm);
        assertTrue(perJvm.keySet().stream().noneMatch(pid -> pid.equals(Long.toString(ProcessHandle.current().pid()))),
                "the tasks ran outside the driver");

        // The same vectors as in-process.
        float[][] ref;
        try (dev.bertj.api.SentenceEmbedder in = dev.bertj.api.SentenceEmbedder.builder(dir).pooling(dev.bertj.api.Pooling.MEAN)
                .normalize(false).maxLength(128).build()) {
            ref = in.embed(texts);
        }
        float max = 0;
        for (Row r : rows) {
            List<Float> v = r.getList(1);
            float[] f = new float[v.size()];
            for (int i = 0; i < f.length; i++) f[i] = v.get(i);
            max = Math.max(max, SparkFixtures.maxDiff(ref[r.getInt(0)], f));
        }
        assertTrue(max <= 1e-5f, "max abs diff " + max);
    }
}
