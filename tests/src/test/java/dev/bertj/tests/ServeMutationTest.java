package dev.bertj.tests;

import dev.bertj.io.Json;
import dev.bertj.model.BertModel;
import dev.bertj.serve.BertServer;
import dev.bertj.serve.EmbeddingService;
import dev.bertj.tokenizer.BertTokenizer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;

import static dev.bertj.tests.ServeFixtures.floats;
import static dev.bertj.tests.ServeFixtures.maxDiff;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Seeded random mutations of every route's request body sent over HTTP (the same contract as the Jazzer
 * target dev.bertj.serve.ServeRequestsFuzzTest, here through the real socket and HTTP parser, without
 * coverage guidance): each answer is a 200 or a
 * 4xx with a JSON error, never a 5xx or a closed connection, and between the bad requests a probe
 * request keeps getting the in-process embedding of its text: a failed request never changes another's
 * answer.
 */
class ServeMutationTest {
    static final String[][] SEEDS = {
            {"/embed", "{\"inputs\": [\"Hello world\", \"caf\\u00e9 \\ud83d\\ude00\"], \"normalize\": true, \"truncate\": false}"},
            {"/tokenize", "{\"inputs\": \"na\u00efve [MASK] \\u4e2d\", \"add_special_tokens\": true}"},
            {"/v1/embeddings", "{\"input\": [\"x y\", \"z\"], \"model\": \"m\", \"encoding_format\": \"base64\", \"user\": null}"},
            {"/predict", "{\"inputs\": [[\"a b\", \"c\"], [\"d\"]], \"raw_scores\": false}"},
            {"/fill-mask", "{\"inputs\": [\"the [MASK] is\"], \"top_k\": 3}"},
    };
    static final String[] TOKENS = {"\"", "{", "}", "[", "]", ",", ":", "null", "true", "1e999", "-0", "\"\"", "[]", "{}", "\\u", "\\ud800",
            "\\udfff", "\u0000", "\"inputs\"", "\"input\"", "9223372036854775808", "[[[[", "\"x\":", "[MASK]", "\"normalize\":"};

    static byte[] mutate(byte[] in, Random r) {
        byte[] out = in.clone();
        for (int k = 1 + r.nextInt(3); k > 0; k--) {
            int at = r.nextInt(out.length + 1);
            byte[] with = switch (r.nextInt(4)) {
                case 0 -> new byte[] {(byte) r.nextInt(256)};
                case 1 -> new byte[0];
                default -> TOKENS[r.nextInt(TOKENS.length)].getBytes(StandardCharsets.UTF_8);
            };
            int cut = Math.min(out.length, at + r.nextInt(4));
            byte[] next = new byte[out.length - (cut - at) + with.length];
            System.arraycopy(out, 0, next, 0, at);
            System.arraycopy(with, 0, next, at, with.length);
            System.arraycopy(out, cut, next, at + with.length, out.length - cut);
            out = next.length == 0 ? new byte[] {'{'} : next;
        }
        return out;
    }

    @Test
    void mutatedBodiesGet4xxAndNeverChangeAnotherRequestsAnswer() throws Exception {
        var dir = ServeFixtures.minilm();
        BertModel model = BertModel.fromPretrained(dir);
        BertTokenizer tok = BertTokenizer.fromPretrained(dir);
        String probeText = "Hello world, a probe between hostile requests";
        float[] probe = ServeFixtures.embedAlone(model, tok, probeText, 512, true);
        Random r = new Random(1413);
        Map<Integer, Integer> statuses = new TreeMap<>();
        Set<Integer> allowed = Set.of(200, 400, 413, 422);
        try (BertServer server = ServeFixtures.start(dir, ServeFixtures.config(), EmbeddingService.Settings.defaults())) {
            String url = server.url();
            for (int i = 0; i < 1500; i++) {
                String[] seed = SEEDS[i % SEEDS.length];
                byte[] body = mutate(seed[1].getBytes(StandardCharsets.UTF_8), r);
                ServeFixtures.Reply rep = ServeFixtures.post(url + seed[0], body);
                statuses.merge(rep.status(), 1, Integer::sum);
                String shown = seed[0] + " " + new String(body, StandardCharsets.UTF_8) + " " + Arrays.toString(body);
                assertTrue(allowed.contains(rep.status()), rep.status() + " for " + shown + ": " + rep.body());
                if (rep.status() != 200) {
                    Map<String, Object> err = Json.asObject(rep.json(), "error");
                    assertEquals(Set.of("error", "error_type"), err.keySet(), shown);
                }
                if (i % 25 == 24) {
                    ServeFixtures.Reply p = ServeFixtures.post(url + "/embed", "{\"inputs\": " + Json.write(probeText) + "}");
                    assertEquals(200, p.status(), p.body());
                    float d = maxDiff(probe, floats(Json.asArray(p.json(), "probe").getFirst()));
                    assertTrue(d <= 1e-5f, "probe after request " + i + " (" + shown + "): " + d);
                }
            }
            assertEquals(200, ServeFixtures.get(url + "/health").status());
        }
        assertTrue(statuses.getOrDefault(422, 0) > 500 && statuses.getOrDefault(200, 0) > 20, "both sides reached: " + statuses);
        System.out.println("mutated request bodies over HTTP, answers by status: " + statuses);
    }
}
