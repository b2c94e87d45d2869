package dev.bertj.tests;

import dev.bertj.io.Json;
import dev.bertj.model.BertModel;
import dev.bertj.serve.BertServer;
import dev.bertj.serve.EmbeddingService;
import dev.bertj.tokenizer.BertTokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.bertj.tests.ServeFixtures.floats;
import static dev.bertj.tests.ServeFixtures.maxDiff;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The server under concurrent clients on loopback, with real SpamAssassin texts of mixed lengths
 * (truncated at 128 tokens to keep the test in seconds): every answer equals the in-process embedding
 * of its text computed alone, whichever requests shared its batch; the metrics count every request;
 * beyond {@code --max-concurrent-requests} clients get 429 at once, never a wait, a 5xx or a wrong answer.
 */
class ServeConcurrencyTest {
    static final int MAX_LENGTH = 128;
    static List<String> texts;
    static Map<String, float[]> oracle = new ConcurrentHashMap<>();

    @BeforeAll
    static void oracle() throws Exception {
        Path dir = ServeFixtures.minilm();
        texts = ServeFixtures.mixedTexts(160, 300);
        BertModel model = BertModel.fromPretrained(dir);
        BertTokenizer tok = BertTokenizer.fromPretrained(dir);
        for (String t : texts) oracle.computeIfAbsent(t, k -> ServeFixtures.embedAlone(model, tok, k, MAX_LENGTH, true));
    }

    static EmbeddingService.Settings settings() {
        EmbeddingService.Settings d = EmbeddingService.Settings.defaults();
        return new EmbeddingService.Settings(d.maxBatchTokens(), d.maxClientBatchSize(), MAX_LENGTH, true, d.device());
    }

    /** Runs {@code clients} virtual threads each sending {@code each} requests; returns status -> count, checking every 200's vectors. */
    static Map<Integer, Integer> run(String url, int clients, int each, List<String> failures) throws InterruptedException {
        Map<Integer, Integer> statuses = new TreeMap<>();
        AtomicInteger inputs = new AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            int cc = c;
            threads.add(Thread.ofVirtual().start(() -> {
                for (int i = 0; i < each; i++) {
                    // Mostly one text, sometimes two or three: requests of mixed sizes and lengths.
                    int n = 1 + ((cc + i) % 7 == 0 ? 2 : (cc + i) % 5 == 0 ? 1 : 0);
                    List<String> mine = new ArrayList<>();
                    for (int k = 0; k < n; k++) mine.add(texts.get((cc * each + i * 3 + k) % texts.size()));
                    try {
                        ServeFixtures.Reply r = ServeFixtures.post(url + "/embed", "{\"inputs\": " + Json.write(mine) + "}");
                        synchronized (statuses) {
                            statuses.merge(r.status(), 1, Integer::sum);
                        }
                        if (r.status() == 200) {
                            List<Object> vs = Json.asArray(r.json(), "embeddings");
                            if (vs.size() != n) failures.add("client " + cc + " request " + i + ": " + vs.size() + " vectors for " + n + " inputs");
                            for (int k = 0; k < vs.size(); k++) {
                                float d = maxDiff(oracle.get(mine.get(k)), floats(vs.get(k)));
                                if (!(d <= 1e-5f)) failures.add("client " + cc + " request " + i + " input " + k + ": max diff " + d);
                            }
                            inputs.addAndGet(n);
                        } else if (r.status() != 429) {
                            failures.add("client " + cc + " request " + i + ": " + r.status() + " " + r.body());
                        } else {
                            ServeFixtures.assertError(r, 429, "Overloaded", "max-concurrent-requests");
                        }
                    } catch (Throwable e) {
                        failures.add("client " + cc + " request " + i + ": " + e);
                    }
                }
            }));
        }
        for (Thread t : threads) t.join();
        statuses.put(-1, inputs.get()); // inputs embedded, under a key no status has
        return statuses;
    }

    @Test
    void sixtyFourClientsTimesTwentyRequestsAllEqualTheInProcessEmbeddings() throws Exception {
        try (BertServer server = ServeFixtures.start(ServeFixtures.minilm(), ServeFixtures.config(), settings())) {
            List<String> failures = Collections.synchronizedList(new ArrayList<>());
            long t0 = System.nanoTime();
            Map<Integer, Integer> statuses = run(server.url(), 64, 20, failures);
            double seconds = (System.nanoTime() - t0) / 1e9;
            assertEquals(List.of(), failures.subList(0, Math.min(10, failures.size())), failures.size() + " failures");
            assertEquals(1280, statuses.get(200), "no error: " + statuses);
            String metrics = ServeFixtures.get(server.url() + "/metrics").body();
            assertEquals(1280, ServeFixtures.requestCount(metrics, "/embed", 200), "metrics count every request");
            assertEquals((long) statuses.get(-1), server.service().metrics().queuedInputs(), "every input went through the queue once");
            assertTrue(metrics.contains("bertj_queue_duration_seconds_count " + statuses.get(-1)), metrics);
            System.out.printf("64 clients x 20 requests (%d inputs): %.1f s, %.0f requests/s%n", statuses.get(-1), seconds, 1280 / seconds);
        }
    }

    @Test
    void overloadGives429sNeverAHangAndHealthRightAfter() throws Exception {
        try (BertServer server = ServeFixtures.start(ServeFixtures.minilm(), ServeFixtures.config().withMaxConcurrentRequests(4), settings())) {
            List<String> failures = Collections.synchronizedList(new ArrayList<>());
            long t0 = System.nanoTime();
            Map<Integer, Integer> statuses = run(server.url(), 64, 5, failures); // each request has a 120 s timeout: a hang fails
            double seconds = (System.nanoTime() - t0) / 1e9;
            assertEquals(List.of(), failures.subList(0, Math.min(10, failures.size())), failures.size() + " failures");
            assertTrue(statuses.getOrDefault(429, 0) > 0, "some requests are refused: " + statuses);
            assertTrue(statuses.getOrDefault(200, 0) > 0, "some are served: " + statuses);
            assertEquals(320, statuses.getOrDefault(200, 0) + statuses.getOrDefault(429, 0), "only 200 and 429: " + statuses);
            ServeFixtures.Reply health = ServeFixtures.get(server.url() + "/health");
            assertEquals(200, health.status(), "healthy right after");
            String metrics = ServeFixtures.get(server.url() + "/metrics").body();
            assertEquals((long) statuses.get(429), ServeFixtures.requestCount(metrics, "/embed", 429));
            assertTrue(metrics.contains("bertj_requests_in_flight 0"), "every permit returned:\n" + metrics);
            System.out.printf("overload, 64 clients x 5 requests at --max-concurrent-requests 4: %s in %.1f s%n", statuses, seconds);
        }
    }
}
