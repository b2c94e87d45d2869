package dev.bertj.serve;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The request parsers: TEI's and OpenAI's shapes, each invalid body a 422 naming its field, and a
 * seeded random-mutation run over every route's bodies in which nothing but a {@link ServeException}
 * of type Validation may escape. (Issue 13's Jazzer harness is not on this branch; when it lands these
 * parsers become {@code @FuzzTest} targets with the same contract.)
 */
class RequestsTest {
    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static void refused(String field, Function<byte[], ?> parser, String body) {
        refused(field, parser, b(body));
    }

    static void refused(String field, Function<byte[], ?> parser, byte[] body) {
        ServeException e = assertThrows(ServeException.class, () -> parser.apply(body), new String(body, StandardCharsets.UTF_8));
        assertEquals(ServeException.Type.Validation, e.type(), e.getMessage());
        assertEquals(422, e.type().status());
        assertTrue(e.getMessage().startsWith(field + ":") || e.getMessage().contains(field), "names " + field + ": " + e.getMessage());
    }

    @Test
    void teiShapes() {
        Requests.Embed e = Requests.embed(b("{\"inputs\": \"hi\"}"));
        assertEquals(List.of("hi"), e.inputs());
        assertTrue(e.normalize());
        assertNull(e.truncate());
        e = Requests.embed(b("{\"inputs\": [\"a\", \"b\"], \"normalize\": false, \"truncate\": true}"));
        assertEquals(List.of("a", "b"), e.inputs());
        assertFalse(e.normalize());
        assertEquals(Boolean.TRUE, e.truncate());
        assertEquals(Boolean.TRUE, Requests.embed(b("{\"inputs\": \"x\", \"normalize\": null}")).normalize(), "null means the default");

        Requests.Predict p = Requests.predict(b("{\"inputs\": \"one\"}"));
        assertTrue(p.single());
        assertArrayEquals(new String[] {"one"}, p.inputs().getFirst());
        p = Requests.predict(b("{\"inputs\": [\"a\", \"b\"], \"raw_scores\": true}"));
        assertTrue(p.single() && p.rawScores(), "[a, b] is one pair, as TEI reads it");
        assertArrayEquals(new String[] {"a", "b"}, p.inputs().getFirst());
        p = Requests.predict(b("{\"inputs\": [[\"a\"], [\"b\", \"c\"]]}"));
        assertFalse(p.single());
        assertEquals(2, p.inputs().size());
        assertArrayEquals(new String[] {"b", "c"}, p.inputs().get(1));

        assertFalse(Requests.tokenize(b("{\"inputs\": [\"a\"], \"add_special_tokens\": false}")).addSpecialTokens());
        Requests.FillMask f = Requests.fillMask(b("{\"inputs\": \"a [MASK]\", \"top_k\": 3}"));
        assertTrue(f.single());
        assertEquals(3, f.topK());
        assertEquals(5, Requests.fillMask(b("{\"inputs\": [\"a [MASK]\"]}")).topK());
    }

    @Test
    void openAiShape() {
        Requests.OpenAiEmbeddings o = Requests.openAi(b("{\"input\": [\"a\"], \"model\": \"text-embedding-3-small\", \"encoding_format\": \"base64\", \"user\": \"u\"}"));
        assertTrue(o.base64());
        assertEquals(List.of("a"), o.input());
        assertFalse(Requests.openAi(b("{\"input\": \"a\", \"dimensions\": 384}")).base64());
        assertEquals(384, Requests.openAi(b("{\"input\": \"a\", \"dimensions\": 384}")).dimensions());
        refused("encoding_format", Requests::openAi, "{\"input\": \"a\", \"encoding_format\": \"hex\"}");
        refused("input[0]", Requests::openAi, "{\"input\": [[1, 2, 3]]}");
        refused("model", Requests::openAi, "{\"input\": \"a\", \"model\": 3}");
        refused("dimensions", Requests::openAi, "{\"input\": \"a\", \"dimensions\": \"big\"}");
    }

    @Test
    void invalidBodiesNameTheField() {
        refused("inputs", Requests::embed, "{}");
        refused("inputs", Requests::embed, "{\"inputs\": null}");
        refused("inputs", Requests::embed, "{\"inputs\": []}");
        refused("inputs", Requests::embed, "{\"inputs\": 5}");
        refused("inputs[1]", Requests::embed, "{\"inputs\": [\"a\", 7]}");
        refused("inputs[0]", Requests::embed, "{\"inputs\": [{\"text\": \"a\"}]}");
        refused("normalize", Requests::embed, "{\"inputs\": \"a\", \"normalize\": \"yes\"}");
        refused("truncate", Requests::embed, "{\"inputs\": \"a\", \"truncate\": 1}");
        refused("\"prompt\"", Requests::embed, "{\"inputs\": \"a\", \"prompt\": \"x\"}");
        refused("body", Requests::embed, "[\"a\"]");
        refused("body", Requests::embed, "{\"inputs\": \"a\"");
        refused("body", Requests::embed, "");
        refused("body", Requests::embed, new byte[] {'{', '"', 'i', (byte) 0xC3, '"', ':', '1', '}'});
        refused("body", Requests::embed, new byte[] {'"', (byte) 0xED, (byte) 0xA0, (byte) 0x80, '"'}); // an encoded surrogate
        refused("inputs", Requests::predict, "{\"inputs\": [\"a\", \"b\", \"c\"]}");
        refused("inputs[1]", Requests::predict, "{\"inputs\": [[\"a\"], \"b\"]}");
        refused("inputs[0][1]", Requests::predict, "{\"inputs\": [[\"a\", 2]]}");
        refused("raw_scores", Requests::predict, "{\"inputs\": \"a\", \"raw_scores\": []}");
        refused("add_special_tokens", Requests::tokenize, "{\"inputs\": \"a\", \"add_special_tokens\": 0}");
        refused("top_k", Requests::fillMask, "{\"inputs\": \"a\", \"top_k\": 0}");
        refused("top_k", Requests::fillMask, "{\"inputs\": \"a\", \"top_k\": 1.5}");
        refused("top_k", Requests::fillMask, "{\"inputs\": \"a\", \"top_k\": 99999999999999999999}");
    }

    /** Valid bodies of every route; the mutator works on their bytes. */
    static final String[][] SEEDS = {
            {"embed", "{\"inputs\": [\"Hello world\", \"caf\\u00e9 \\ud83d\\ude00\"], \"normalize\": true, \"truncate\": false}"},
            {"predict", "{\"inputs\": [[\"a b\", \"c\"], [\"d\"]], \"raw_scores\": false, \"truncate\": null}"},
            {"tokenize", "{\"inputs\": \"na\u00efve [MASK]\", \"add_special_tokens\": true}"},
            {"fill-mask", "{\"inputs\": [\"the [MASK] is\"], \"top_k\": 3}"},
            {"openai", "{\"input\": [\"x\", \"y\"], \"model\": \"m\", \"encoding_format\": \"base64\", \"dimensions\": 384, \"user\": null}"},
    };

    static Object parse(String route, byte[] body) {
        return switch (route) {
            case "embed" -> Requests.embed(body);
            case "predict" -> Requests.predict(body);
            case "tokenize" -> Requests.tokenize(body);
            case "fill-mask" -> Requests.fillMask(body);
            default -> Requests.openAi(body);
        };
    }

    /** Structure-aware mutations: bytes flipped, inserted, deleted, duplicated, and JSON tokens spliced in. */
    static byte[] mutate(byte[] in, Random r) {
        byte[] out = in.clone();
        int n = 1 + r.nextInt(4);
        String[] tokens = {"\"", "{", "}", "[", "]", ",", ":", "null", "true", "1e999", "-0", "\"\"", "[]", "{}", "\\u", "\\ud800",
                "\u0000", "\u00ff", "\"inputs\"", "\"input\"", "9223372036854775808", "[[[[[[", "\"x\":"};
        for (int k = 0; k < n; k++) {
            if (out.length == 0) out = new byte[] {'{'};
            int at = r.nextInt(out.length + 1);
            switch (r.nextInt(6)) {
                case 0 -> out[Math.min(at, out.length - 1)] = (byte) r.nextInt(256);
                case 1 -> out = splice(out, at, Math.min(out.length, at + 1 + r.nextInt(8)), new byte[0]);
                case 2 -> out = splice(out, at, at, tokens[r.nextInt(tokens.length)].getBytes(StandardCharsets.UTF_8));
                case 3 -> out = splice(out, at, at, new byte[] {(byte) (0x80 + r.nextInt(0x80))});
                case 4 -> {
                    int from = r.nextInt(out.length), len = Math.min(out.length - from, 1 + r.nextInt(16));
                    byte[] piece = java.util.Arrays.copyOfRange(out, from, from + len);
                    out = splice(out, at, at, piece);
                }
                default -> out = splice(out, at, Math.min(out.length, at + r.nextInt(3)), tokens[r.nextInt(tokens.length)].getBytes(StandardCharsets.UTF_8));
            }
        }
        return out;
    }

    static byte[] splice(byte[] a, int from, int to, byte[] with) {
        byte[] out = new byte[a.length - (to - from) + with.length];
        System.arraycopy(a, 0, out, 0, from);
        System.arraycopy(with, 0, out, from, with.length);
        System.arraycopy(a, to, out, from + with.length, a.length - to);
        return out;
    }

    @Test
    void seededMutationsOfEveryRoutesBodyOnlyEverGiveA422() {
        Random r = new Random(14);
        int accepted = 0, refused = 0;
        for (String[] seed : SEEDS) {
            byte[] valid = b(seed[1]);
            parse(seed[0], valid); // the seed itself is valid
            byte[] current = valid;
            for (int i = 0; i < 10_000; i++) {
                // Mostly mutate the seed; sometimes keep mutating a mutant, to get further away.
                current = r.nextInt(4) == 0 ? mutate(current, r) : mutate(valid, r);
                try {
                    parse(seed[0], current);
                    accepted++;
                } catch (ServeException e) {
                    refused++;
                    assertEquals(ServeException.Type.Validation, e.type(), e.getMessage());
                    assertTrue(e.getMessage().contains(":"), "names a field: " + e.getMessage());
                    assertFalse(e.getMessage().contains("Exception"), e.getMessage());
                } catch (Throwable t) {
                    throw new AssertionError(seed[0] + ": " + t + " on " + java.util.Arrays.toString(current), t);
                }
                if (current.length > 4096) current = valid;
            }
        }
        assertTrue(accepted > 500 && refused > 25_000, "the mutator reaches both sides: " + accepted + " accepted, " + refused + " refused");
    }
}
