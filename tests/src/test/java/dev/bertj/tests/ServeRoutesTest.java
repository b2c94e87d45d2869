package dev.bertj.tests;

import dev.bertj.io.Json;
import dev.bertj.model.BertModel;
import dev.bertj.model.SequenceClassifier;
import dev.bertj.serve.BertServer;
import dev.bertj.serve.EmbeddingService;
import dev.bertj.tokenizer.Batch;
import dev.bertj.tokenizer.BertTokenizer;
import dev.bertj.tokenizer.DataCollatorWithPadding;
import dev.bertj.train.Checkpoint;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import static dev.bertj.tests.ServeFixtures.assertError;
import static dev.bertj.tests.ServeFixtures.floats;
import static dev.bertj.tests.ServeFixtures.get;
import static dev.bertj.tests.ServeFixtures.maxDiff;
import static dev.bertj.tests.ServeFixtures.post;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every route of {@code ./bertj serve} over loopback, each answer checked against an oracle
 * (in-process bertj for vectors and scores, Hugging Face's tokenizers for /tokenize), and the error
 * table: 413, 422 naming the field, 400, 401, 404, 405, each a JSON body and never a stack trace.
 */
class ServeRoutesTest {
    static BertServer server;
    static BertServer classifierServer;
    static String url;
    static BertModel model;
    static BertTokenizer tok;

    @BeforeAll
    static void start() throws Exception {
        Path dir = ServeFixtures.minilm();
        server = ServeFixtures.start(dir, ServeFixtures.config().withPayloadLimit(200_000), EmbeddingService.Settings.defaults());
        url = server.url();
        classifierServer = ServeFixtures.start(ServeFixtures.classifier(), ServeFixtures.config(), EmbeddingService.Settings.defaults());
        model = BertModel.fromPretrained(dir);
        tok = BertTokenizer.fromPretrained(dir);
    }

    @AfterAll
    static void stop() {
        if (server != null) server.stop();
        if (classifierServer != null) classifierServer.stop();
    }

    @Test
    void embedEqualsTheInProcessEmbeddingOfEachTextAlone() throws Exception {
        List<String> texts = ServeFixtures.mixedTexts(5, 400);
        StringBuilder body = new StringBuilder("{\"inputs\": ");
        body.append(Json.write(texts)).append('}');
        ServeFixtures.Reply r = post(url + "/embed", body.toString());
        assertEquals(200, r.status(), r.body());
        assertEquals("application/json", r.raw().headers().firstValue("Content-Type").orElseThrow());
        List<Object> vs = Json.asArray(r.json(), "embeddings");
        assertEquals(texts.size(), vs.size());
        for (int i = 0; i < texts.size(); i++) {
            float[] want = ServeFixtures.embedAlone(model, tok, texts.get(i), 512, true);
            assertTrue(maxDiff(want, floats(vs.get(i))) <= 1e-5f, "text " + i + ": " + maxDiff(want, floats(vs.get(i))));
        }
        // A bare string is a batch of one; normalize false gives the raw mean.
        r = post(url + "/embed", "{\"inputs\": " + Json.write(texts.get(0)) + ", \"normalize\": false}");
        float[] raw = floats(Json.asArray(r.json(), "embeddings").getFirst());
        assertTrue(maxDiff(ServeFixtures.embedAlone(model, tok, texts.get(0), 512, false), raw) <= 1e-5f);
        double norm = 0;
        for (float x : raw) norm += x * x;
        assertTrue(Math.abs(Math.sqrt(norm) - 1) > 1e-3, "not normalized: " + Math.sqrt(norm));
    }

    @Test
    void longInputsAre413UnlessTruncated() throws Exception {
        String longText = String.join(" ", Collections.nCopies(600, "word"));
        assertError(post(url + "/embed", "{\"inputs\": \"" + longText + "\"}"), 413, "Validation", "inputs");
        assertError(post(url + "/embed", "{\"inputs\": [\"short\", \"" + longText + "\"]}"), 413, "Validation", "inputs[1]");
        ServeFixtures.Reply r = post(url + "/embed", "{\"inputs\": \"" + longText + "\", \"truncate\": true}");
        assertEquals(200, r.status(), r.body());
        float[] want = ServeFixtures.embedAlone(model, tok, longText, 512, true);
        assertTrue(maxDiff(want, floats(Json.asArray(r.json(), "e").getFirst())) <= 1e-5f, "truncated at the max input length, 512");
    }

    /** sentence-transformers' 1_Pooling/config.json with CLS pooling: /embed gives the [CLS] state, /info says cls. */
    @Test
    void poolingComesFromTheModelsPoolingConfig() throws Exception {
        Path src = ServeFixtures.minilm(), dir = java.nio.file.Files.createTempDirectory("bertj-serve-cls");
        for (String f : List.of("model.safetensors", "config.json", "vocab.txt", "tokenizer_config.json", "tokenizer.json")) {
            java.nio.file.Files.copy(src.resolve(f), dir.resolve(f));
        }
        java.nio.file.Files.createDirectories(dir.resolve("1_Pooling"));
        java.nio.file.Files.writeString(dir.resolve("1_Pooling/config.json"),
                "{\"word_embedding_dimension\": 384, \"pooling_mode_cls_token\": true, \"pooling_mode_mean_tokens\": false}");
        try (BertServer s = ServeFixtures.start(dir, ServeFixtures.config(), EmbeddingService.Settings.defaults())) {
            String text = "pooled on the first token";
            Batch b = new DataCollatorWithPadding(tok).collate(List.of(tok.encode(text)));
            float[] want = dev.bertj.model.SentenceEmbeddings.cls(model.forward(b).lastHiddenState().data(), 1, b.seqLen(), 384);
            dev.bertj.model.SentenceEmbeddings.normalize(want, 1, 384);
            ServeFixtures.Reply r = post(s.url() + "/embed", "{\"inputs\": \"" + text + "\"}");
            assertTrue(maxDiff(want, floats(Json.asArray(r.json(), "e").getFirst())) <= 1e-5f);
            assertTrue(maxDiff(ServeFixtures.embedAlone(model, tok, text, 512, true), floats(Json.asArray(r.json(), "e").getFirst())) > 1e-2f,
                    "not the mean");
            assertEquals("cls", Json.asObject(get(s.url() + "/info").json(), "info").get("pooling"));
        }
    }

    @Test
    void autoTruncateAtTheMaxInputLengthUnlessTheRequestSaysNo() throws Exception {
        EmbeddingService.Settings d = EmbeddingService.Settings.defaults();
        var settings = new EmbeddingService.Settings(d.maxBatchTokens(), 4, 16, true, d.device());
        try (BertServer s = ServeFixtures.start(ServeFixtures.minilm(), ServeFixtures.config(), settings)) {
            String text = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen";
            ServeFixtures.Reply r = post(s.url() + "/embed", "{\"inputs\": \"" + text + "\"}");
            assertEquals(200, r.status(), r.body());
            assertTrue(maxDiff(ServeFixtures.embedAlone(model, tok, text, 16, true), floats(Json.asArray(r.json(), "e").getFirst())) <= 1e-5f);
            assertError(post(s.url() + "/embed", "{\"inputs\": \"" + text + "\", \"truncate\": false}"), 413, "Validation", "16");
            assertError(post(s.url() + "/embed", "{\"inputs\": [\"a\", \"b\", \"c\", \"d\", \"e\"]}"), 413, "Validation", "batch size 5");
            assertEquals(16L, Json.asObject(get(s.url() + "/info").json(), "info").get("max_input_length"));
            assertEquals(Boolean.TRUE, Json.asObject(get(s.url() + "/info").json(), "info").get("auto_truncate"));
        }
    }

    @Test
    void openAiEmbeddingsInFloatAndBase64() throws Exception {
        List<String> texts = List.of("The quick brown fox", "naïve café 😀 [MASK]");
        ServeFixtures.Reply r = post(url + "/v1/embeddings", "{\"input\": " + Json.write(texts) + ", \"model\": \"anything\"}");
        assertEquals(200, r.status(), r.body());
        Map<String, Object> m = Json.asObject(r.json(), "body");
        assertEquals("list", m.get("object"));
        assertEquals(server.service().modelName(), m.get("model"));
        int tokens = 0;
        for (String t : texts) tokens += tok.encode(t).length();
        assertEquals(Map.of("prompt_tokens", (long) tokens, "total_tokens", (long) tokens), m.get("usage"));
        List<Object> data = Json.asArray(m.get("data"), "data");
        ServeFixtures.Reply b64 = post(url + "/v1/embeddings", "{\"input\": " + Json.write(texts) + ", \"encoding_format\": \"base64\", \"dimensions\": 384}");
        List<Object> data64 = Json.asArray(Json.asObject(b64.json(), "b").get("data"), "data");
        for (int i = 0; i < texts.size(); i++) {
            Map<String, Object> d = Json.asObject(data.get(i), "d");
            assertEquals("embedding", d.get("object"));
            assertEquals((long) i, d.get("index"));
            float[] v = floats(d.get("embedding"));
            assertTrue(maxDiff(ServeFixtures.embedAlone(model, tok, texts.get(i), 512, true), v) <= 1e-5f);
            // base64: little-endian float32, exactly the float answer's values.
            ByteBuffer bytes = ByteBuffer.wrap(Base64.getDecoder().decode(Json.asString(Json.asObject(data64.get(i), "d").get("embedding"), "b64")))
                    .order(ByteOrder.LITTLE_ENDIAN);
            float[] decoded = new float[bytes.remaining() / 4];
            bytes.asFloatBuffer().get(decoded);
            // Not bit-equal: two requests, and bertj's Vector API sums may differ in the last bit between JIT tiers.
            assertTrue(maxDiff(v, decoded) <= 1e-6f, "base64 decodes to the float answer: " + maxDiff(v, decoded));
        }
        assertError(post(url + "/v1/embeddings", "{\"input\": \"x\", \"dimensions\": 100}"), 422, "Validation", "dimensions");
        assertError(post(url + "/v1/embeddings", "{\"inputs\": \"x\"}"), 422, "Validation", "\"inputs\"");
        assertError(post(url + "/v1/embeddings", "{\"input\": [[101, 102]]}"), 422, "Validation", "input[0]");
    }

    @Test
    void tokenizeEqualsHuggingFaceTokenizers() throws Exception {
        List<String> texts = List.of("I like BUAN6342", "Héllo wörld! 中文 😀 naïve", "[CLS] written in, café [MASK]");
        ServeFixtures.Reply r = post(url + "/tokenize", "{\"inputs\": " + Json.write(texts) + "}");
        assertEquals(200, r.status(), r.body());
        List<Object> per = Json.asArray(r.json(), "tokens");
        try (HfOracle hf = HfOracle.builder().build()) {
            for (int i = 0; i < texts.size(); i++) {
                String text = texts.get(i);
                HfOracle.Enc want = hf.encode(text);
                List<Object> got = Json.asArray(per.get(i), "tokens of " + i);
                assertEquals(want.ids().length, got.size(), text);
                for (int t = 0; t < got.size(); t++) {
                    Map<String, Object> g = Json.asObject(got.get(t), "token");
                    assertEquals(want.ids()[t], g.get("id"), text + " token " + t);
                    boolean special = want.specialTokensMask()[t] == 1;
                    assertEquals(special, g.get("special"));
                    if (special) {
                        assertEquals(want.tokens()[t], g.get("text"));
                        assertNull(g.get("start"));
                    } else {
                        // TEI's offsets are UTF-8 bytes; the oracle's are UTF-16 indices.
                        int s = want.offsetStart()[t], e = want.offsetEnd()[t];
                        assertEquals(text.substring(s, e), g.get("text"));
                        assertEquals((long) text.substring(0, s).getBytes(StandardCharsets.UTF_8).length, g.get("start"));
                        assertEquals((long) text.substring(0, e).getBytes(StandardCharsets.UTF_8).length, g.get("stop"));
                    }
                }
            }
        }
        r = post(url + "/tokenize", "{\"inputs\": \"I like BUAN6342\", \"add_special_tokens\": false}");
        List<Object> plain = Json.asArray(Json.asArray(r.json(), "t").getFirst(), "t");
        assertEquals(List.of(1045L, 2066L, 20934L, 2319L, 2575L, 22022L, 2475L), plain.stream().map(o -> Json.asObject(o, "t").get("id")).toList());
    }

    @Test
    void predictEqualsTheInProcessClassifier() throws Exception {
        String cu = classifierServer.url();
        SequenceClassifier<?> clf = Checkpoint.loadClassifierOfAnyKind(ServeFixtures.classifier());
        List<String> texts = ServeFixtures.mixedTexts(3, 300);
        // A batch of a text and a pair; then a single text (a flat list) and a single pair.
        ServeFixtures.Reply r = post(cu + "/predict", "{\"inputs\": [[" + Json.write(texts.get(0)) + "], [" + Json.write(texts.get(1)) + ", "
                + Json.write(texts.get(2)) + "]]}");
        assertEquals(200, r.status(), r.body());
        List<Object> batch = Json.asArray(r.json(), "predictions");
        assertEquals(2, batch.size());
        checkPredictions(clf, texts.get(0), null, batch.get(0), false);
        checkPredictions(clf, texts.get(1), texts.get(2), batch.get(1), false);
        checkPredictions(clf, texts.get(0), null, post(cu + "/predict", "{\"inputs\": " + Json.write(texts.get(0)) + "}").json(), false);
        checkPredictions(clf, "a", "b", post(cu + "/predict", "{\"inputs\": [\"a\", \"b\"], \"raw_scores\": true}").json(), true);

        Map<String, Object> info = Json.asObject(get(cu + "/info").json(), "info");
        assertEquals(List.of("ham", "spam"), info.get("labels"));
        assertEquals(Map.of("classifier", Map.of("id2label", Map.of("0", "ham", "1", "spam"))), info.get("model_type"));
        assertError(post(url + "/predict", "{\"inputs\": \"x\"}"), 400, "Unsupported", "classifier");
        assertError(post(cu + "/predict", "{\"inputs\": [\"a\", \"b\", \"c\"]}"), 422, "Validation", "inputs");
        assertError(post(cu + "/predict", "{\"inputs\": [[\"a\"], [\"\"]]}"), 422, "Validation", "inputs[1]");
    }

    private static void checkPredictions(SequenceClassifier<?> clf, String text, String pair, Object got, boolean raw) {
        Batch b = new DataCollatorWithPadding(tok).collate(List.of(tok.encode(text, pair)));
        var out = clf.forward(b);
        float[] want = raw ? out.logits().data() : out.probabilities();
        List<Object> ps = Json.asArray(got, "predictions");
        assertEquals(2, ps.size());
        double previous = Double.POSITIVE_INFINITY;
        for (Object o : ps) {
            Map<String, Object> p = Json.asObject(o, "prediction");
            int c = List.of("ham", "spam").indexOf(p.get("label"));
            double score = Json.asDouble(p.get("score"), "score");
            assertEquals(want[c], score, 1e-5, p.get("label") + " of " + text);
            assertTrue(score <= previous, "best first");
            previous = score;
        }
    }

    @Test
    void healthInfoAndMetrics() throws Exception {
        ServeFixtures.Reply h = get(url + "/health");
        assertEquals(200, h.status());
        Map<String, Object> info = Json.asObject(get(url + "/info").json(), "info");
        assertEquals(384L, info.get("dimensions"));
        assertEquals(512L, info.get("max_input_length"));
        assertEquals("mean", info.get("pooling"));
        assertEquals(Map.of("embedding", Map.of("pooling", "mean")), info.get("model_type"));
        assertNull(info.get("labels"));
        assertEquals(32L, info.get("max_client_batch_size"));
        assertTrue(info.get("version") instanceof String);
        long before = ServeFixtures.requestCount(get(url + "/metrics").body(), "/tokenize", 200);
        post(url + "/tokenize", "{\"inputs\": \"count me\"}");
        ServeFixtures.Reply m = get(url + "/metrics");
        assertTrue(m.raw().headers().firstValue("Content-Type").orElseThrow().startsWith("text/plain; version=0.0.4"));
        assertEquals(before + 1, ServeFixtures.requestCount(m.body(), "/tokenize", 200));
        for (String name : List.of("bertj_queue_duration_seconds_bucket", "bertj_tokenization_duration_seconds_count", "bertj_inference_duration_seconds_sum",
                "bertj_batch_size_bucket", "bertj_batch_tokens_count", "bertj_queue_size ", "bertj_request_duration_seconds_bucket{route=\"/tokenize\"")) {
            assertTrue(m.body().contains(name), name + " in\n" + m.body());
        }
    }

    @Test
    void theErrorTable() throws Exception {
        String e = url + "/embed";
        // 413: payload, client batch, input length (above).
        assertError(post(e, "{\"inputs\": \"" + "a".repeat(200_001) + "\"}"), 413, "Validation", "payload");
        assertError(post(e, "{\"inputs\": " + Json.write(Collections.nCopies(33, "x")) + "}"), 413, "Validation", "batch size 33");
        // 422: empty, wrong types, unknown fields, bad UTF-8, lone surrogates, bad JSON.
        assertError(post(e, "{\"inputs\": \"\"}"), 422, "Validation", "inputs");
        assertError(post(e, "{\"inputs\": []}"), 422, "Validation", "inputs");
        assertError(post(e, "{\"inputs\": [\"ok\", \"\"]}"), 422, "Validation", "inputs[1]");
        assertError(post(e, "{\"inputs\": 5}"), 422, "Validation", "inputs");
        assertError(post(e, "{\"inputs\": [\"ok\", null]}"), 422, "Validation", "inputs[1]");
        assertError(post(e, "{\"inputs\": \"ok\", \"normalize\": \"yes\"}"), 422, "Validation", "normalize");
        assertError(post(e, "{\"inputs\": \"ok\", \"truncation_direction\": \"left\"}"), 422, "Validation", "\"truncation_direction\"");
        assertError(post(e, "{}"), 422, "Validation", "inputs");
        assertError(post(e, "[\"ok\"]"), 422, "Validation", "body");
        assertError(post(e, "{\"inputs\": \"ok\""), 422, "Validation", "body");
        assertError(post(e, new byte[] {'{', '"', 'i', 'n', 'p', 'u', 't', 's', '"', ':', '"', (byte) 0xFF, '"', '}'}), 422, "Validation", "body");
        assertError(post(e, "{\"inputs\": \"ab\\ud800cd\"}"), 422, "Validation", "inputs");
        assertError(post(e, "{\"inputs\": [\"ok\", \"\\udc00\"]}"), 422, "Validation", "inputs[1]");
        assertError(post(url + "/tokenize", "{\"inputs\": \"a\", \"add_special_tokens\": 1}"), 422, "Validation", "add_special_tokens");
        // 400: a route the model has no head for; 404, 405.
        assertError(post(url + "/fill-mask", "{\"inputs\": \"a [MASK]\"}"), 400, "Unsupported", "masked-LM");
        assertError(get(url + "/nope"), 404, "NotFound", "/nope");
        assertError(get(e), 405, "MethodNotAllowed", "POST");
        assertEquals("POST", get(e).raw().headers().firstValue("Allow").orElseThrow());
        // After all that, the server answers as before.
        ServeFixtures.Reply ok = post(e, "{\"inputs\": \"still serving\"}");
        assertEquals(200, ok.status());
        assertTrue(maxDiff(ServeFixtures.embedAlone(model, tok, "still serving", 512, true), floats(Json.asArray(ok.json(), "e").getFirst())) <= 1e-5f);
    }

    @Test
    void apiKeyGuardsEveryRouteButHealth() throws Exception {
        try (BertServer s = ServeFixtures.start(ServeFixtures.minilm(), ServeFixtures.config().withApiKey("s3cret"), EmbeddingService.Settings.defaults())) {
            String u = s.url();
            assertEquals(200, get(u + "/health").status());
            for (String route : List.of("/info", "/metrics")) assertError(get(u + route), 401, "Unauthorized", "Authorization");
            ServeFixtures.Reply none = post(u + "/embed", "{\"inputs\": \"x\"}");
            assertError(none, 401, "Unauthorized", "Authorization");
            assertEquals("Bearer", none.raw().headers().firstValue("WWW-Authenticate").orElseThrow());
            assertError(post(u + "/embed", "{\"inputs\": \"x\"}", "Authorization", "Bearer wrong"), 401, "Unauthorized", "API key");
            assertError(post(u + "/v1/embeddings", "{\"input\": \"x\"}", "Authorization", "s3cret"), 401, "Unauthorized", "API key");
            assertEquals(200, post(u + "/embed", "{\"inputs\": \"x\"}", "Authorization", "Bearer s3cret").status());
            assertEquals(200, get(u + "/info", "Authorization", "Bearer s3cret").status());
        }
    }

    /**
     * A client that sends its headers and then its body one byte at a time holds only its own virtual
     * thread: requests from other clients are answered meanwhile, and the slow one is answered too.
     */
    @Test
    void aSlowClientDoesNotHoldTheInferenceLoop() throws Exception {
        byte[] body = "{\"inputs\": \"slowly sent\"}".getBytes(StandardCharsets.UTF_8);
        java.net.URI u = java.net.URI.create(url);
        try (Socket slow = new Socket(u.getHost(), u.getPort())) {
            var out = slow.getOutputStream();
            out.write(("POST /embed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(body, 0, 3);
            out.flush();
            List<Long> millis = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                long t0 = System.nanoTime();
                assertEquals(200, post(url + "/embed", "{\"inputs\": \"meanwhile " + i + "\"}").status());
                millis.add((System.nanoTime() - t0) / 1_000_000);
            }
            for (int i = 3; i < body.length; i++) {
                out.write(body[i]);
                out.flush();
                Thread.sleep(20);
            }
            String answer = new String(slow.getInputStream().readNBytes(40), StandardCharsets.US_ASCII);
            assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
            assertFalse(millis.isEmpty());
        }
    }
}
