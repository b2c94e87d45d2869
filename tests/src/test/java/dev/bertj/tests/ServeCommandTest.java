package dev.bertj.tests;

import dev.bertj.cli.Main;
import dev.bertj.io.Json;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.bertj.tests.ServeFixtures.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ./bertj serve} as a process: the real command in a child JVM on the module path (as ./bertj runs
 * it), its one ready line with the URL, /fill-mask against {@code ./bertj fill-mask}, and SIGTERM: the
 * request in flight is answered, then the process exits 0.
 */
class ServeCommandTest {
    static final Pattern URL = Pattern.compile("listening on (http://127\\.0\\.0\\.1:\\d+)");

    /** A running {@code serve} child, its URL, and the file its stderr goes to. */
    record Child(Process process, String url, Path stderrFile) implements AutoCloseable {
        String stderr() throws IOException {
            return Files.readString(stderrFile, StandardCharsets.UTF_8);
        }

        @Override
        public void close() {
            process.destroyForcibly();
        }
    }

    static Child serve(String... args) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Path core = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector", "-Xmx1g", "-p", core.toString(),
                "-m", "dev.bertj/dev.bertj.cli.Main", "serve", "--port", "0"));
        cmd.addAll(List.of(args));
        // stderr into a file: every byte the child wrote is there once it has exited (a pipe's tail can be lost in a race).
        Path err = Files.createTempFile("bertj-serve-stderr", ".txt");
        Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
            try {
                return out.readLine();
            } catch (IOException e) {
                return null;
            }
        });
        String first = line.get(180, TimeUnit.SECONDS);
        if (first == null) {
            p.waitFor(10, TimeUnit.SECONDS);
            throw new AssertionError("serve printed nothing; stderr:\n" + Files.readString(err));
        }
        Matcher m = URL.matcher(first);
        assertTrue(m.find(), "one ready line with the URL: " + first);
        return new Child(p, m.group(1), err);
    }

    @Test
    void fillMaskEqualsTheFillMaskCommand() throws Exception {
        Path dir = ServeFixtures.maskedLm();
        try (Child c = serve("--model", dir.toString())) {
            String text = "the capital of france is [MASK].";
            ServeFixtures.Reply r = ServeFixtures.post(c.url() + "/fill-mask", "{\"inputs\": \"" + text + "\", \"top_k\": 3}");
            assertEquals(200, r.status(), r.body());
            TokenizeCommandTest.Result cli = TokenizeCommandTest.run("\"" + text + "\"\n{\"text\": \"a [MASK] b\"}\n", "fill-mask", "--model", dir.toString(), "--top-k", "3");
            assertEquals(0, cli.status(), cli.err());
            String[] lines = cli.out().strip().split("\n");
            assertSamePredictions(Json.parse(lines[0]), r.json());
            ServeFixtures.Reply batch = ServeFixtures.post(c.url() + "/fill-mask", "{\"inputs\": [\"" + text + "\", \"a [MASK] b\"], \"top_k\": 3}");
            List<Object> both = Json.asArray(batch.json(), "batch");
            assertSamePredictions(Json.parse(lines[0]), both.get(0));
            assertSamePredictions(Json.parse(lines[1]), both.get(1));
            assertError(ServeFixtures.post(c.url() + "/fill-mask", "{\"inputs\": \"no mask here\"}"), 422, "Validation", "inputs");
            assertError(ServeFixtures.post(c.url() + "/fill-mask", "{\"inputs\": [\"a [MASK]\", \"[MASK] and [MASK]\"]}"), 422, "Validation", "inputs[1]");
            assertTrue(Json.asObject(ServeFixtures.get(c.url() + "/info").json(), "info").get("fill_mask").equals(Boolean.TRUE));
            // Embeddings come from the same encoder.
            assertEquals(200, ServeFixtures.post(c.url() + "/embed", "{\"inputs\": \"x\"}").status());
        }
    }

    private static void assertSamePredictions(Object want, Object got) {
        List<Object> w = Json.asArray(want, "cli"), g = Json.asArray(got, "server");
        assertEquals(w.size(), g.size());
        for (int i = 0; i < w.size(); i++) {
            Map<String, Object> a = Json.asObject(w.get(i), "cli"), b = Json.asObject(g.get(i), "server");
            assertEquals(a.keySet(), b.keySet());
            assertEquals(a.get("token"), b.get("token"));
            assertEquals(a.get("token_str"), b.get("token_str"));
            assertEquals(a.get("sequence"), b.get("sequence"));
            assertEquals(Json.asDouble(a.get("score"), "s"), Json.asDouble(b.get("score"), "s"), 1e-6);
        }
    }

    @Test
    void sigtermAnswersTheRequestInFlightThenExitsZero() throws Exception {
        Path dir = ServeFixtures.minilm();
        try (Child c = serve("--model", dir.toString())) {
            assertEquals(200, ServeFixtures.post(c.url() + "/embed", "{\"inputs\": \"warm up\"}").status());
            // A request that takes a while: 16 inputs of ~300 tokens each.
            String body = "{\"inputs\": " + Json.write(Collections.nCopies(16, String.join(" ", Collections.nCopies(300, "word")))) + "}";
            CompletableFuture<ServeFixtures.Reply> inFlight = CompletableFuture.supplyAsync(() -> {
                try {
                    return ServeFixtures.post(c.url() + "/embed", body);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            // Wait until the server holds it (a permit taken), then send SIGTERM.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!ServeFixtures.get(c.url() + "/metrics").body().contains("bertj_requests_in_flight 1")) {
                assertTrue(System.nanoTime() < deadline, "the request never arrived");
                assertTrue(!inFlight.isDone(), "the request finished before SIGTERM could be sent; make it longer");
                Thread.sleep(5);
            }
            long t0 = System.nanoTime();
            c.process().destroy(); // SIGTERM on Linux
            ServeFixtures.Reply r = inFlight.get(120, TimeUnit.SECONDS);
            assertEquals(200, r.status(), "the request in flight is answered: " + r.body());
            assertEquals(16, Json.asArray(r.json(), "embeddings").size());
            assertTrue(c.process().waitFor(60, TimeUnit.SECONDS), "exits within a bounded time");
            assertEquals(0, c.process().exitValue(), "exit status; stderr:\n" + c.stderr());
            System.out.printf("SIGTERM to exit: %.1f s%n", (System.nanoTime() - t0) / 1e9);
            assertTrue(c.stderr().contains("bertj serve: stopping") && c.stderr().contains("bertj serve: stopped"), c.stderr());
            assertThrows(ConnectException.class, () -> ServeFixtures.get(c.url() + "/health"), "no longer listening");
        }
    }

    @Test
    void badCommandLinesAreUsageErrors() throws Exception {
        TokenizeCommandTest.Result r = TokenizeCommandTest.run("", "serve", "--port", "8080");
        assertEquals(2, r.status());
        assertTrue(r.err().contains("--model is required"), r.err());
        r = TokenizeCommandTest.run("", "serve", "--model", "default", "--port", "70000");
        assertEquals(2, r.status());
        assertTrue(r.err().contains("--port"), r.err());
        r = TokenizeCommandTest.run("", "serve", "--model", "default", "--max-concurrent-requests", "0");
        assertEquals(2, r.status());
        r = TokenizeCommandTest.run("", "serve", "--help");
        assertEquals(0, r.status());
        for (String flag : List.of("--host", "--port", "--max-batch-tokens", "--max-concurrent-requests", "--max-client-batch-size", "--max-input-length",
                "--payload-limit", "--auto-truncate", "--api-key", "--device")) {
            assertTrue(r.out().contains(flag), flag);
        }
        Path notAModel = Files.createTempDirectory("bertj-serve-empty");
        r = TokenizeCommandTest.run("", "serve", "--model", notAModel.toString(), "--port", "0");
        assertEquals(1, r.status());
        assertTrue(r.err().contains(notAModel.toString()), r.err());
    }
}
