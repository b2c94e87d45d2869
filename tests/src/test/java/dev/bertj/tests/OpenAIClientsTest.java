package dev.bertj.tests;

import dev.bertj.io.Json;
import dev.bertj.serve.BertServer;
import dev.bertj.serve.EmbeddingService;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.openai.OpenAiEmbeddingModel;
import dev.langchain4j.model.output.Response;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static dev.bertj.tests.ServeFixtures.floats;
import static dev.bertj.tests.ServeFixtures.maxDiff;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real OpenAI clients against {@code ./bertj serve}'s /v1/embeddings: the official OpenAI Node SDK
 * (npm {@code openai}, installed by {@code npm ci} from {@code src/test/node} into {@code target/}) and
 * langchain4j's {@code OpenAiEmbeddingModel} with its base URL set to the server. Both must get the
 * vectors {@code ./bertj embed --normalize} prints for the same texts.
 */
class OpenAIClientsTest {
    static final String KEY = "test-key-14";
    static BertServer server;
    static List<String> texts;
    static List<float[]> cli;

    @BeforeAll
    static void start() throws Exception {
        Path dir = ServeFixtures.minilm();
        server = ServeFixtures.start(dir, ServeFixtures.config().withApiKey(KEY), EmbeddingService.Settings.defaults());
        texts = new ArrayList<>(ServeFixtures.mixedTexts(10, 500));
        texts.add("naïve café 😀 — 中文, the end.");
        // The oracle: ./bertj embed's output for the same texts (JSON Lines in, one array per line out).
        StringBuilder in = new StringBuilder();
        for (String t : texts) in.append(Json.write(t)).append('\n');
        TokenizeCommandTest.Result r = TokenizeCommandTest.run(in.toString(), "embed", "--model", dir.toString(), "--normalize");
        assertEquals(0, r.status(), r.err());
        cli = new ArrayList<>();
        for (String line : r.out().strip().split("\n")) cli.add(floats(Json.parse(line)));
        assertEquals(texts.size(), cli.size());
    }

    @AfterAll
    static void stop() {
        if (server != null) server.stop();
    }

    @Test
    void openAiNodeSdkGetsTheVectorsOfBertjEmbed() throws Exception {
        Path tests = Path.of(ServeFixtures.class.getProtectionDomain().getCodeSource().getLocation().toURI()).getParent().getParent();
        Path src = tests.resolve("src/test/node"), work = tests.resolve("target/node-clients");
        Files.createDirectories(work);
        for (String f : List.of("package.json", "package-lock.json", "openai-embeddings.mjs")) {
            Files.copy(src.resolve(f), work.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
        // The exact versions of package-lock.json, from the npm registry (npm's own client).
        run(work, 300, "npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund");
        Path textsFile = work.resolve("texts.json");
        Files.writeString(textsFile, Json.write(texts), StandardCharsets.UTF_8);
        String out = run(work, 120, "node", "openai-embeddings.mjs", server.url() + "/v1", KEY, textsFile.toString());
        Map<String, Object> m = Json.asObject(Json.parse(out.strip().lines().reduce((a, b) -> b).orElseThrow()), "node output");

        List<Object> b64 = Json.asArray(m.get("base64"), "base64"), asFloat = Json.asArray(m.get("float"), "float");
        assertEquals(texts.size(), b64.size());
        float worst = 0;
        for (int i = 0; i < texts.size(); i++) {
            float[] a = floats(b64.get(i)), f = floats(asFloat.get(i));
            worst = Math.max(worst, Math.max(maxDiff(cli.get(i), a), maxDiff(cli.get(i), f)));
            assertTrue(maxDiff(cli.get(i), a) <= 1e-5f && maxDiff(cli.get(i), f) <= 1e-5f, "text " + i + ": " + maxDiff(cli.get(i), a));
            // Two requests: equal to the last bits of the JIT tier's sums (a wrong byte order would be garbage).
            assertTrue(maxDiff(a, f) <= 1e-6f, "the SDK's base64 decoding gives the float answer: " + maxDiff(a, f));
        }
        assertTrue(maxDiff(cli.get(0), floats(m.get("single"))) <= 1e-5f);
        assertEquals("list", m.get("object"));
        assertEquals(server.service().modelName(), m.get("model"));
        Map<String, Object> usage = Json.asObject(m.get("usage"), "usage");
        assertTrue(Json.asLong(usage.get("prompt_tokens"), "p") > texts.size());
        assertEquals(401L, Json.asObject(m.get("wrongKey"), "wrongKey").get("status"), String.valueOf(m.get("wrongKey")));
        Map<String, Object> empty = Json.asObject(m.get("empty"), "empty");
        assertEquals(422L, empty.get("status"));
        assertTrue(String.valueOf(empty.get("message")).contains("input"), "the SDK shows the server's message: " + empty);
        System.out.printf("OpenAI Node SDK vs ./bertj embed: max abs diff %.2e over %d texts%n", worst, texts.size());
    }

    @Test
    void langchain4jOpenAiEmbeddingModelGetsTheVectorsOfBertjEmbed() {
        OpenAiEmbeddingModel model = OpenAiEmbeddingModel.builder().baseUrl(server.url() + "/v1").apiKey(KEY).modelName("bertj")
                .maxSegmentsPerBatch(4).build(); // several requests, as a client splitting a corpus does
        Response<List<Embedding>> r = model.embedAll(texts.stream().map(TextSegment::from).toList());
        List<Embedding> got = r.content();
        assertEquals(texts.size(), got.size());
        float worst = 0;
        for (int i = 0; i < texts.size(); i++) {
            float d = maxDiff(cli.get(i), got.get(i).vector());
            worst = Math.max(worst, d);
            assertTrue(d <= 1e-5f, "text " + i + ": " + d);
        }
        assertTrue(r.tokenUsage().inputTokenCount() > texts.size(), "usage read: " + r.tokenUsage());
        System.out.printf("langchain4j OpenAiEmbeddingModel vs ./bertj embed: max abs diff %.2e over %d texts%n", worst, texts.size());
    }

    /** Runs a command in {@code dir}; fails with its output unless it exits 0 within {@code seconds}. */
    static String run(Path dir, int seconds, String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        byte[][] out = new byte[1][];
        Thread reader = Thread.ofVirtual().start(() -> {
            try {
                out[0] = p.getInputStream().readAllBytes();
            } catch (IOException e) {
                out[0] = new byte[0];
            }
        });
        boolean done = p.waitFor(seconds, TimeUnit.SECONDS);
        if (!done) p.destroyForcibly();
        reader.join(10_000);
        String text = out[0] == null ? "" : new String(out[0], StandardCharsets.UTF_8);
        assertTrue(done, String.join(" ", cmd) + " did not finish in " + seconds + " s:\n" + text);
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + ":\n" + text);
        return text;
    }
}
