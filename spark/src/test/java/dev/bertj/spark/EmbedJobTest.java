package dev.bertj.spark;

import dev.bertj.io.Json;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link EmbedJob}, the job spark-submit and {@code ./bertj spark-embed} run, in the shared local[2] session. */
class EmbedJobTest {
    private record Run(int status, String err) { }

    /** EmbedJob's command line; the shared session is already up, so the job uses it and leaves it running. */
    private static Run run(String... args) {
        SparkFixtures.spark();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status;
        try (PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            status = EmbedJob.run(args, e);
        }
        return new Run(status, err.toString(StandardCharsets.UTF_8));
    }

    /** The objects of every part file of a JSON Lines output directory, in part order. */
    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> readParts(Path dir) throws IOException {
        List<Map<String, Object>> out = new ArrayList<>();
        try (Stream<Path> parts = Files.list(dir)) {
            for (Path p : parts.filter(f -> f.getFileName().toString().startsWith("part-")).sorted().toList()) {
                for (String line : Files.readAllLines(p)) if (!line.isBlank()) out.add((Map<String, Object>) Json.parse(line, p.toString()));
            }
        }
        return out;
    }

    private static Path jsonl(List<String> texts) throws IOException {
        Path f = Files.createTempFile("bertj-spark-in", ".jsonl");
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < texts.size(); i++) {
            sb.append("{\"id\":").append(i).append(",\"text\":").append(texts.get(i) == null ? "null" : Json.write(texts.get(i))).append("}\n");
        }
        Files.writeString(f, sb);
        return f;
    }

    @Test
    void embedsJsonLinesIntoJsonLinesPartFiles() throws Exception {
        List<String> texts = new ArrayList<>(SparkFixtures.texts().subList(190, 230));
        texts.add(5, null);
        texts.add(9, "");
        Path out = Files.createTempDirectory("bertj-spark-out").resolve("embedded");
        String model = SparkFixtures.minilm().toString();
        Run r = run("--input", jsonl(texts).toString(), "--format", "jsonl", "--text-col", "text", "--output", out.toString(),
                "--model", model, "--max-length", "128");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.err().startsWith("bertj spark-embed: wrote " + out), r.err());
        List<Map<String, Object>> rows = readParts(out);
        assertEquals(texts.size(), rows.size());
        List<String> real = texts.stream().filter(t -> t != null && !t.isEmpty()).toList();
        float[][] cli = SparkFixtures.cliEmbed(real, "embed", "--model", model, "--max-length", "128");
        int k = 0;
        for (int i = 0; i < rows.size(); i++) {
            Map<String, Object> row = rows.get(i);
            assertEquals(List.of("text", "embedding"), List.copyOf(row.keySet()), "the keys of row " + i);
            assertEquals(texts.get(i), row.get("text"), "one part, the input's order");
            if (texts.get(i) == null || texts.get(i).isEmpty()) {
                assertNull(row.get("embedding"));
                continue;
            }
            float d = SparkFixtures.maxDiff(cli[k++], SparkFixtures.floats(row.get("embedding")));
            assertTrue(d <= 1e-5f, "row " + i + ": " + d);
        }
    }

    @Test
    void classifiesTextFilesAndParquet() throws Exception {
        String ckpt = SparkFixtures.classifier().toString();
        List<String> texts = SparkFixtures.texts().subList(200, 210);
        Path txt = Files.createTempFile("bertj-spark-in", ".txt");
        Files.write(txt, texts.stream().map(t -> t.replace('\n', ' ')).toList());
        Path out = Files.createTempDirectory("bertj-spark-out").resolve("labels");
        Run r = run("--input", txt.toString(), "--format", "text", "--output", out.toString(), "--model", ckpt, "--classify", "--max-length", "128");
        assertEquals(0, r.status(), r.err());
        List<Map<String, Object>> rows = readParts(out);
        assertEquals(texts.size(), rows.size());
        for (Map<String, Object> row : rows) {
            assertEquals(List.of("text", "label", "probability"), List.copyOf(row.keySet()));
            assertTrue(List.of("ham", "spam").contains(row.get("label")), row.toString());
            double p = ((Number) row.get("probability")).doubleValue();
            assertTrue(p >= 0.5 && p <= 1, row.toString());
        }

        Path parquet = Files.createTempDirectory("bertj-spark-pq").resolve("in.parquet");
        StructType schema = new StructType().add("body", DataTypes.StringType);
        SparkFixtures.spark().createDataFrame(List.of(RowFactory.create("hello"), RowFactory.create((Object) null)), schema)
                .coalesce(1).write().parquet(parquet.toString());
        Path out2 = out.resolveSibling("embedded-parquet");
        r = run("--input", parquet.toString(), "--format", "parquet", "--text-col", "body", "--output", out2.toString(),
                "--model", SparkFixtures.minilm().toString(), "--pooling", "mean", "--max-length", "128");
        assertEquals(0, r.status(), r.err());
        rows = readParts(out2);
        assertEquals(2, rows.size());
        assertEquals(384, Json.asArray(rows.get(0).get("embedding"), "embedding").size());
        assertTrue(rows.get(1).containsKey("embedding") && rows.get(1).get("embedding") == null);
    }

    @Test
    void aBadModelPathIsOneSentenceAndStatusOne() throws Exception {
        Path in = jsonl(List.of("one", "two"));
        Path out = Files.createTempDirectory("bertj-spark-out").resolve("never");
        Run r = run("--input", in.toString(), "--output", out.toString(), "--model", "/nonexistent/bertj-model");
        assertEquals(1, r.status(), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains("/nonexistent/bertj-model does not exist"), r.err());
        assertFalse(Files.exists(out));
    }

    @Test
    void usageErrorsAreStatusTwo() {
        Run r = run("--input", "x", "--output", "y");
        assertEquals(2, r.status());
        assertTrue(r.err().contains("--model is required"), r.err());
        r = run("--input", "x", "--output", "y", "--model", "m", "--format", "csv");
        assertEquals(2, r.status());
        assertTrue(r.err().contains("--format must be jsonl, parquet or text"), r.err());
        EmbedJob.Options o = EmbedJob.parse(new String[] {"--input", "x", "--output", "y", "--model", "m", "--pooling", "cls", "--normalize",
                "--format=parquet", "--text-col", "body", "--batch-size", "8"});
        assertEquals(new EmbedJob.Options("x", "parquet", "body", "y", "m", false, null, 0, 8, "cls", true), o);
        r = run("--input", "x", "--output", "y", "--model", "m", "--classify", "--normalize");
        assertEquals(2, r.status());
        assertTrue(r.err().contains("not with --classify"), r.err());
        r = run("--help");
        assertEquals(0, r.status());
        assertTrue(r.err().contains("Usage: EmbedJob"), r.err());
    }
}
