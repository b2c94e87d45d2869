package dev.bertj.tests;

import dev.bertj.data.Email;
import dev.bertj.io.Json;
import dev.bertj.io.SafeTensors;
import dev.bertj.model.BertConfig;
import dev.bertj.model.BertForSequenceClassification;
import dev.bertj.model.BertModel;
import dev.bertj.model.SentenceEmbeddings;
import dev.bertj.serve.BertServer;
import dev.bertj.serve.EmbeddingService;
import dev.bertj.serve.ServerConfig;
import dev.bertj.tensor.Tensor;
import dev.bertj.tokenizer.Batch;
import dev.bertj.tokenizer.BertTokenizer;
import dev.bertj.tokenizer.DataCollatorWithPadding;
import dev.bertj.tokenizer.EncodeOptions;
import dev.bertj.train.Checkpoint;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the server tests share: the converted all-MiniLM-L6-v2 (as {@link ModelCommandsTest} makes it),
 * a classification checkpoint and a masked-LM directory built from it, real SpamAssassin texts, an
 * HTTP client on loopback, and the in-process oracle (one text alone through {@link BertModel}).
 */
final class ServeFixtures {
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
    private static Path classifier;
    private static Path maskedLm;
    private static List<String> emails;

    private ServeFixtures() { }

    static synchronized Path minilm() throws Exception {
        if (ModelCommandsTest.dir == null) ModelCommandsTest.convert();
        return ModelCommandsTest.dir;
    }

    /**
     * A sequence-classification checkpoint as ./bertj train writes one: MiniLM's encoder and a seeded new
     * head with labels ham and spam, saved by {@link Checkpoint#save}.
     */
    static synchronized Path classifier() throws Exception {
        if (classifier != null) return classifier;
        Path src = minilm();
        Map<String, Tensor> w = new LinkedHashMap<>();
        try (SafeTensors st = SafeTensors.open(src.resolve("model.safetensors"))) {
            for (String n : st.names()) w.put(n, st.load(n));
        }
        BertConfig config = BertConfig.read(src.resolve("config.json")).withLabels(List.of("ham", "spam"));
        BertForSequenceClassification m = BertForSequenceClassification.of(config, w, 2, 7);
        Path dir = Files.createTempDirectory("bertj-serve-classifier").resolve("ckpt");
        Checkpoint.save(dir, m, BertTokenizer.fromPretrained(src));
        return classifier = dir;
    }

    /**
     * MiniLM declared a BertForMaskedLM: the export has no cls.predictions, so its head is newly
     * initialised, seeded (42), identically in the server and in ./bertj fill-mask: a shape test.
     */
    static synchronized Path maskedLm() throws Exception {
        if (maskedLm != null) return maskedLm;
        Path src = minilm(), dir = Files.createTempDirectory("bertj-serve-mlm");
        for (String f : List.of("model.safetensors", "vocab.txt", "tokenizer_config.json", "tokenizer.json")) Files.copy(src.resolve(f), dir.resolve(f));
        BertConfig.read(src.resolve("config.json")).with("architectures", List.of("BertForMaskedLM")).write(dir.resolve("config.json"));
        return maskedLm = dir;
    }

    /** Subject and body (headers dropped) of the 250 committed SpamAssassin e-mails. */
    static synchronized List<String> emails() throws IOException {
        if (emails != null) return emails;
        List<String> out = new ArrayList<>();
        try (InputStream in = ServeFixtures.class.getResourceAsStream("/spamassassin/sample.jsonl");
             BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.isBlank()) continue;
                String text = Email.toText(Json.asString(Json.asObject(Json.parse(line), "line").get("text"), "text")).strip();
                if (!text.isEmpty()) out.add(text);
            }
        }
        return emails = List.copyOf(out);
    }

    /** {@code n} real texts of mixed lengths: e-mail i cut at a word boundary near a length between 10 and {@code maxChars}. */
    static List<String> mixedTexts(int n, int maxChars) throws IOException {
        List<String> all = emails(), out = new ArrayList<>();
        java.util.Random r = new java.util.Random(14);
        for (int i = 0; i < n; i++) {
            String t = all.get(i % all.size());
            int cut = Math.min(t.length(), 10 + r.nextInt(maxChars - 9));
            int space = t.lastIndexOf(' ', cut);
            String s = (space > 5 ? t.substring(0, space) : t.substring(0, cut)).strip();
            if (Character.isHighSurrogate(s.charAt(s.length() - 1))) s = s.substring(0, s.length() - 1);
            out.add(s.isEmpty() ? "empty e-mail " + i : s);
        }
        return out;
    }

    /** An in-process server on an ephemeral loopback port. */
    static BertServer start(Path dir, ServerConfig config, EmbeddingService.Settings settings) throws IOException {
        EmbeddingService s = EmbeddingService.load(dir, dir.getFileName().toString(), settings, null);
        return BertServer.start(s, config.withPort(0));
    }

    static ServerConfig config() {
        return ServerConfig.defaults().withPort(0);
    }

    /** One HTTP answer. */
    record Reply(int status, String body, HttpResponse<String> raw) {
        Object json() {
            return Json.parse(body);
        }
    }

    static Reply post(String url, String body, String... headers) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(URI.create(url)).POST(HttpRequest.BodyPublishers.ofString(body)), headers);
    }

    static Reply post(String url, byte[] body, String... headers) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(URI.create(url)).POST(HttpRequest.BodyPublishers.ofByteArray(body)), headers);
    }

    static Reply get(String url, String... headers) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(URI.create(url)).GET(), headers);
    }

    private static Reply send(HttpRequest.Builder b, String... headers) throws IOException, InterruptedException {
        b.timeout(Duration.ofSeconds(120)).header("Content-Type", "application/json");
        for (int i = 0; i < headers.length; i += 2) b.header(headers[i], headers[i + 1]);
        HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        return new Reply(r.statusCode(), r.body(), r);
    }

    /**
     * An error answer: {@code status}, a body of exactly {"error", "error_type"} naming {@code field},
     * and no trace of a stack.
     */
    static void assertError(Reply r, int status, String errorType, String field) {
        assertEquals(status, r.status(), r.body());
        Map<String, Object> m = Json.asObject(r.json(), "error body");
        assertEquals(List.of("error", "error_type"), List.copyOf(m.keySet()), r.body());
        assertEquals(errorType, m.get("error_type"), r.body());
        String msg = Json.asString(m.get("error"), "error");
        assertTrue(msg.contains(field), "the error names " + field + ": " + msg);
        assertFalse(msg.contains("Exception") || msg.contains("\tat ") || msg.contains("dev.bertj."), "no stack trace: " + msg);
        assertEquals("application/json", r.raw().headers().firstValue("Content-Type").orElse(""));
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

    /** The in-process oracle: {@code text} alone (a batch of one, no padding) through the model, mean-pooled. */
    static float[] embedAlone(BertModel model, BertTokenizer tok, String text, int maxLength, boolean normalize) {
        EncodeOptions opts = EncodeOptions.builder().truncation(EncodeOptions.Truncation.LONGEST_FIRST).maxLength(maxLength).build();
        Batch b = new DataCollatorWithPadding(tok).collate(List.of(tok.encode(text, null, opts)));
        int h = model.config().hiddenSize();
        float[] e = SentenceEmbeddings.mean(model.forward(b).lastHiddenState().data(), b.attentionMask(), 1, b.seqLen(), h);
        if (normalize) SentenceEmbeddings.normalize(e, 1, h);
        return e;
    }

    /** Counter value of {@code bertj_requests_total{route, status}} in a /metrics text. */
    static long requestCount(String metrics, String route, int status) {
        String prefix = "bertj_requests_total{route=\"" + route + "\",status=\"" + status + "\"} ";
        for (String line : metrics.split("\n")) if (line.startsWith(prefix)) return Long.parseLong(line.substring(prefix.length()).trim());
        return 0;
    }
}
