package dev.bertj.spark;

import dev.bertj.api.ModelResolver;
import dev.bertj.cli.Main;
import dev.bertj.data.Email;
import dev.bertj.io.Json;
import dev.bertj.io.SafeTensors;
import dev.bertj.model.BertConfig;
import dev.bertj.model.BertForSequenceClassification;
import dev.bertj.tensor.Tensor;
import dev.bertj.tokenizer.BertTokenizer;
import dev.bertj.train.Checkpoint;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * What the module's tests share: one {@code local[2]} SparkSession for all of them (Spark's own test
 * pattern; a session takes seconds to start), the converted all-MiniLM-L6-v2, a classification
 * checkpoint made from it, real SpamAssassin texts, and the oracles: {@code ./bertj embed} and
 * {@code ./bertj classify} run in-process through the CLI's own {@link Main#run}.
 */
final class SparkFixtures {
    private static SparkSession spark;
    private static Path minilm;
    private static Path classifier;
    private static List<String> texts;

    private SparkFixtures() { }

    /** The shared session: local[2], no UI, loopback only. Spark stops it when the JVM exits. */
    static synchronized SparkSession spark() {
        if (spark == null) {
            spark = SparkSession.builder().master("local[2]").appName("bertj-spark tests")
                    .config("spark.ui.enabled", "false")
                    .config("spark.driver.bindAddress", "127.0.0.1")
                    .config("spark.driver.host", "127.0.0.1")
                    .config("spark.sql.shuffle.partitions", "2")
                    .getOrCreate();
        }
        return spark;
    }

    /** all-MiniLM-L6-v2, converted by bertj from the MiniLM jar on the test class path into target/bertj-cache. */
    static synchronized Path minilm() throws IOException {
        if (minilm == null) minilm = ModelResolver.resolve(ModelResolver.DEFAULT);
        return minilm;
    }

    /**
     * A sequence-classification checkpoint as ./bertj train writes one: MiniLM's encoder and a seeded new
     * head with labels ham and spam, saved by {@link Checkpoint#save} (as the tests module's ServeFixtures
     * makes it: the labels are a deterministic function of the text, which is all parity needs).
     */
    static synchronized Path classifier() throws IOException {
        if (classifier != null) return classifier;
        Path src = minilm();
        Map<String, Tensor> w = new LinkedHashMap<>();
        try (SafeTensors st = SafeTensors.open(src.resolve("model.safetensors"))) {
            for (String n : st.names()) w.put(n, st.load(n));
        }
        BertConfig config = BertConfig.read(src.resolve("config.json")).withLabels(List.of("ham", "spam"));
        BertForSequenceClassification m = BertForSequenceClassification.of(config, w, 2, 7);
        Path dir = Files.createTempDirectory("bertj-spark-classifier").resolve("ckpt");
        Checkpoint.save(dir, m, BertTokenizer.fromPretrained(src));
        return classifier = dir;
    }

    /**
     * 300 real texts of mixed lengths from the committed SpamAssassin sample (CC0): the text of each of
     * the first 200 e-mails (subject and body, headers dropped; most run past 128 tokens) and the
     * subject and first 30 words of each of the other 50 (a few tokens, a few tens).
     */
    static synchronized List<String> texts() throws IOException {
        if (texts != null) return texts;
        String where = System.getProperty("bertj.sample", "../tests/src/test/resources/spamassassin/sample.jsonl");
        List<String> raw = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of(where))) {
            if (!line.isBlank()) raw.add(Json.asString(Json.asObject(Json.parse(line, where), where).get("text"), where + ": text"));
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < raw.size() && out.size() < 300; i++) {
            if (i < 200) {
                String t = Email.toText(raw.get(i)).strip();
                out.add(t.isEmpty() ? "e-mail " + i : t);
            } else {
                String subject = Email.subject(raw.get(i)).strip();
                out.add(subject.isEmpty() ? "no subject " + i : subject);
                String[] words = Email.toText(raw.get(i)).strip().split("\\s+");
                out.add(String.join(" ", java.util.Arrays.copyOf(words, Math.min(words.length, 30))));
            }
        }
        return texts = List.copyOf(out);
    }

    /** {@code texts} as a DataFrame (id int, text string) in {@code partitions} partitions. */
    static Dataset<Row> frame(List<String> texts, int partitions) {
        return frame(spark(), texts, partitions);
    }

    /** {@code texts} as a DataFrame of {@code session}. */
    static Dataset<Row> frame(SparkSession session, List<String> texts, int partitions) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) rows.add(RowFactory.create(i, texts.get(i)));
        StructType schema = new StructType().add("id", DataTypes.IntegerType, false).add("text", DataTypes.StringType, true);
        return session.createDataFrame(rows, schema).repartition(partitions);
    }

    /** The CLI's output lines for {@code texts} given as JSON strings on stdin. */
    static List<String> cli(List<String> texts, String... args) {
        StringBuilder in = new StringBuilder();
        for (String t : texts) in.append(Json.write(t)).append('\n');
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int status;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8); PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            status = Main.run(args, new BufferedReader(new StringReader(in.toString())), o, e);
        }
        assertEquals(0, status, err.toString(StandardCharsets.UTF_8));
        return out.toString(StandardCharsets.UTF_8).lines().toList();
    }

    /** {@code ./bertj embed ARGS} on {@code texts}: one vector per text. */
    static float[][] cliEmbed(List<String> texts, String... args) {
        List<String> lines = cli(texts, args);
        assertEquals(texts.size(), lines.size());
        float[][] out = new float[lines.size()][];
        for (int i = 0; i < out.length; i++) out[i] = floats(Json.parse(lines.get(i)));
        return out;
    }

    static float[] floats(Object jsonArray) {
        List<Object> l = Json.asArray(jsonArray, "vector");
        float[] f = new float[l.size()];
        for (int i = 0; i < f.length; i++) f[i] = (float) Json.asDouble(l.get(i), "vector[" + i + "]");
        return f;
    }

    static float maxDiff(float[] a, float[] b) {
        assertEquals(a.length, b.length, "dimensions");
        float d = 0;
        for (int i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
        return d;
    }
}
