package dev.bertj.spark;

import dev.bertj.api.ModelResolver;
import dev.bertj.api.Pooling;
import dev.bertj.api.SentenceEmbedder;
import dev.bertj.api.TextClassifier;
import org.apache.spark.SparkFiles;
import org.apache.spark.util.LongAccumulator;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The models of this JVM (an executor, or the driver in local mode): each loaded once, lazily, on the
 * first task that needs it, then shared by every task and thread of the JVM until it exits.
 *
 * <p>Why a static holder: Spark serialises a task's closure for every task; a model inside it would
 * be copied per task (and a broadcast would still deserialise one heap copy per executor, and could
 * not memory-map). Tasks carry only {@link Settings} (a few strings); the weights are mapped here from
 * the model directory, which every executor reads from a shared path or from its SparkFiles directory.
 *
 * <p>A model that fails to load is remembered for 30 seconds: the retries Spark makes of a failed task
 * fail at once with the same one-sentence {@link ModelLoadException}, instead of loading (and logging)
 * again; a later job tries again.
 */
final class ExecutorModels {
    /** The model reference prefix of a directory shipped with {@code SparkContext.addFile(dir, true)}. */
    static final String SPARK_FILES = "spark-files:";

    /** What a task needs to find its model; the cache key with the directory resolved. */
    record Settings(String kind, String model, String pooling, Boolean normalize, int maxLength, int batchSize)
            implements java.io.Serializable { }

    private record Key(Settings settings, Path dir) { }

    /** A failed load, kept for {@link #FAILURE_MEMORY_NANOS} so that retries of the job's tasks fail fast. */
    private record Failure(ModelLoadException error, long atNanos) { }

    /** Long enough to cover Spark's task retries; short enough that a model put in place later is found. */
    private static final long FAILURE_MEMORY_NANOS = 30_000_000_000L;

    private static final Map<String, Object> RESOLVED = new ConcurrentHashMap<>();
    private static final Map<Key, Object> MODELS = new ConcurrentHashMap<>();
    private static final AtomicInteger LOADS = new AtomicInteger();

    private ExecutorModels() { }

    /** Models this JVM has loaded so far (failed loads included). */
    static int loadsInThisJvm() {
        return LOADS.get();
    }

    /** The shared embedder for {@code s}; counts a load in {@code loads} (may be null) when this call loaded it. */
    static SentenceEmbedder embedder(Settings s, LongAccumulator loads) {
        return (SentenceEmbedder) get(s, loads);
    }

    /** The shared classifier for {@code s}. */
    static TextClassifier classifier(Settings s, LongAccumulator loads) {
        return (TextClassifier) get(s, loads);
    }

    private static Object get(Settings s, LongAccumulator loads) {
        Key key = new Key(s, resolve(s.model()));
        // computeIfAbsent holds the key's bin while loading: other tasks wanting the same model wait for
        // it instead of loading a second copy.
        Object m = MODELS.computeIfAbsent(key, k -> {
            LOADS.incrementAndGet();
            if (loads != null) loads.add(1);
            return load(k);
        });
        if (m instanceof Failure f) {
            if (System.nanoTime() - f.atNanos() > FAILURE_MEMORY_NANOS && MODELS.remove(key, f)) return get(s, loads);
            throw f.error().again();
        }
        return m;
    }

    private static Object load(Key k) {
        Settings s = k.settings();
        long t0 = System.nanoTime();
        try {
            checkModelDir(k.dir(), s.model(), "executor " + host());
            Object model;
            if (s.kind().equals("classifier")) {
                TextClassifier.Builder b = TextClassifier.builder(k.dir().toString()).batchSize(s.batchSize());
                if (s.maxLength() > 0) b.maxLength(s.maxLength());
                model = b.build();
            } else {
                SentenceEmbedder.Builder b = SentenceEmbedder.builder(k.dir()).batchSize(s.batchSize());
                if (s.pooling() != null) b.pooling(pooling(s.pooling()));
                if (s.normalize() != null) b.normalize(s.normalize());
                if (s.maxLength() > 0) b.maxLength(s.maxLength());
                model = b.build();
            }
            System.getLogger(ExecutorModels.class.getName()).log(System.Logger.Level.INFO,
                    "bertj: loaded the " + s.kind() + " " + k.dir() + " in " + (System.nanoTime() - t0) / 1_000_000 + " ms (pid "
                            + ProcessHandle.current().pid() + ")");
            return model;
        } catch (ModelLoadException e) {
            return new Failure(e, System.nanoTime());
        } catch (IOException | RuntimeException e) {
            return new Failure(new ModelLoadException("bertj could not load the model " + reference(s.model(), k.dir()) + " on executor " + host()
                    + ": " + message(e)), System.nanoTime());
        }
    }

    /** The model directory a reference names, in this JVM: a SparkFiles name, a model name, or a path. */
    static Path resolve(String model) {
        Object r = RESOLVED.computeIfAbsent(model, m -> {
            try {
                if (m.startsWith(SPARK_FILES)) {
                    String name = m.substring(SPARK_FILES.length());
                    return Path.of(SparkFiles.get(name));
                }
                if (m.startsWith("file:")) return Path.of(java.net.URI.create(m));
                return ModelResolver.resolve(m);
            } catch (IOException | RuntimeException e) {
                return new ModelLoadException("bertj could not find the model " + m + " on executor " + host() + ": " + message(e));
            }
        });
        if (r instanceof ModelLoadException e) {
            RESOLVED.remove(model, e); // not remembered: resolving again is cheap, and the cause may be fixed
            throw e.again();
        }
        return (Path) r;
    }

    /**
     * Fails with one sentence when {@code dir} is not a model directory: missing, not a directory, or
     * without config.json or model.safetensors.
     */
    static void checkModelDir(Path dir, String reference, String where) {
        String problem = null;
        if (!Files.exists(dir)) problem = "does not exist";
        else if (!Files.isDirectory(dir)) problem = "is not a directory";
        else if (!Files.isRegularFile(dir.resolve("config.json"))) problem = "has no config.json";
        else if (!Files.isRegularFile(dir.resolve("model.safetensors"))) problem = "has no model.safetensors";
        if (problem != null) {
            throw new ModelLoadException("bertj model directory " + reference(reference, dir) + " " + problem + " on " + where
                    + ": give a model directory every executor can read, or ship one with SparkContext.addFile(dir, true) and setModel(\""
                    + SPARK_FILES + "<its name>\")");
        }
    }

    /** The model as the user named it, and the directory when that differs. */
    private static String reference(String model, Path dir) {
        return model.equals(dir.toString()) ? model : model + " (" + dir + ")";
    }

    static Pooling pooling(String p) {
        return switch (p.toLowerCase(Locale.ROOT)) {
            case "mean" -> Pooling.MEAN;
            case "cls" -> Pooling.CLS;
            case "max" -> Pooling.MAX;
            default -> throw new IllegalArgumentException("bertj pooling must be mean, cls or max, got '" + p + "'");
        };
    }

    private static String message(Throwable e) {
        Throwable t = e instanceof UncheckedIOException u ? u.getCause() : e;
        if (t instanceof java.nio.file.NoSuchFileException n) return n.getFile() + ": no such file";
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }

    private static String host() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "localhost";
        }
    }
}
