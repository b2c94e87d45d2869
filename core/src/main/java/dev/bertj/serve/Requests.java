package dev.bertj.serve;

import dev.bertj.io.Json;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The JSON shapes of request bodies (TEI's and OpenAI's), parsed into records. Strict, because a
 * server meets bad input: a body that is not UTF-8, not JSON or not an object, a field of the wrong
 * type, or a field the route does not know is a {@link ServeException} of type Validation (422) whose
 * message names the field. JSON {@code null} for an optional field means its default.
 */
public final class Requests {
    private Requests() { }

    /** {@code POST /embed}: {@code {"inputs": str | [str], "normalize": true, "truncate": null}}. */
    public record Embed(List<String> inputs, boolean normalize, Boolean truncate) { }

    /**
     * {@code POST /predict}: each input is {@code [text]} or {@code [text, pair]}; {@code single} when
     * the request held one input rather than a batch (TEI answers it with a flat list).
     */
    public record Predict(List<String[]> inputs, boolean single, boolean rawScores, Boolean truncate) { }

    /** {@code POST /tokenize}: {@code {"inputs": str | [str], "add_special_tokens": true}}. */
    public record Tokenize(List<String> inputs, boolean addSpecialTokens) { }

    /** {@code POST /fill-mask}: {@code {"inputs": str | [str], "top_k": 5}}; {@code single} for a bare string. */
    public record FillMask(List<String> inputs, boolean single, int topK) { }

    /** {@code POST /v1/embeddings}: OpenAI's {@code {"input", "model", "encoding_format", "dimensions", "user"}}. */
    public record OpenAiEmbeddings(List<String> input, boolean base64, Integer dimensions) { }

    /** Parses a /embed body. */
    public static Embed embed(byte[] body) {
        Map<String, Object> m = object(body, "/embed", Set.of("inputs", "normalize", "truncate"));
        return new Embed(texts(m, "inputs"), bool(m, "normalize", true), optionalBool(m, "truncate"));
    }

    /** Parses a /predict body: a string, a pair {@code [a, b]}, or a batch {@code [[a], [a, b], ...]}, as TEI reads it. */
    public static Predict predict(byte[] body) {
        Map<String, Object> m = object(body, "/predict", Set.of("inputs", "raw_scores", "truncate"));
        Object v = required(m, "inputs");
        List<String[]> inputs = new ArrayList<>();
        boolean single;
        if (v instanceof String s) {
            inputs.add(new String[] {s});
            single = true;
        } else if (v instanceof List<?> list && !list.isEmpty() && !(list.getFirst() instanceof List<?>)) {
            inputs.add(sequence(list, "inputs"));
            single = true;
        } else if (v instanceof List<?> list) {
            if (list.isEmpty()) throw ServeException.invalid("inputs", "must not be empty");
            for (int i = 0; i < list.size(); i++) {
                if (!(list.get(i) instanceof List<?> seq)) {
                    throw ServeException.invalid("inputs[" + i + "]", "expected an array [text] or [text, pair] in a batch but found " + kind(list.get(i)));
                }
                inputs.add(sequence(seq, "inputs[" + i + "]"));
            }
            single = false;
        } else {
            throw ServeException.invalid("inputs", "expected a string, a pair [text, pair] or a batch [[text], [text, pair], ...] but found " + kind(v));
        }
        return new Predict(inputs, single, bool(m, "raw_scores", false), optionalBool(m, "truncate"));
    }

    /** Parses a /tokenize body. */
    public static Tokenize tokenize(byte[] body) {
        Map<String, Object> m = object(body, "/tokenize", Set.of("inputs", "add_special_tokens"));
        return new Tokenize(texts(m, "inputs"), bool(m, "add_special_tokens", true));
    }

    /** Parses a /fill-mask body. */
    public static FillMask fillMask(byte[] body) {
        Map<String, Object> m = object(body, "/fill-mask", Set.of("inputs", "top_k"));
        long k = m.get("top_k") == null ? 5 : integer(m.get("top_k"), "top_k");
        if (k < 1 || k > 1000) throw ServeException.invalid("top_k", "must be between 1 and 1000, got " + k);
        return new FillMask(texts(m, "inputs"), m.get("inputs") instanceof String, (int) k);
    }

    /** Parses a /v1/embeddings body; {@code model} and {@code user} are accepted and ignored, as TEI does. */
    public static OpenAiEmbeddings openAi(byte[] body) {
        Map<String, Object> m = object(body, "/v1/embeddings", Set.of("input", "model", "encoding_format", "dimensions", "user"));
        for (String f : new String[] {"model", "user"}) {
            if (m.get(f) != null && !(m.get(f) instanceof String)) throw ServeException.invalid(f, "expected a string but found " + kind(m.get(f)));
        }
        Object format = m.get("encoding_format");
        boolean base64 = false;
        if (format != null) {
            if (!"float".equals(format) && !"base64".equals(format)) {
                throw ServeException.invalid("encoding_format", "must be \"float\" or \"base64\", got " + (format instanceof String s ? "\"" + s + "\"" : kind(format)));
            }
            base64 = format.equals("base64");
        }
        Integer dims = m.get("dimensions") == null ? null : (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, integer(m.get("dimensions"), "dimensions")));
        return new OpenAiEmbeddings(texts(m, "input"), base64, dims);
    }

    // ------------------------------------------------------------------------------------------

    /** The body as a JSON object with only {@code known} keys. */
    static Map<String, Object> object(byte[] body, String route, Set<String> known) {
        Object v;
        try {
            v = Json.parse(utf8(body), "body");
        } catch (Json.JsonException e) {
            throw new ServeException(ServeException.Type.Validation, "invalid JSON: " + e.getMessage());
        }
        if (!(v instanceof Map<?, ?>)) throw ServeException.invalid("body", "expected a JSON object but found " + kind(v));
        Map<String, Object> m = Json.asObject(v, "body");
        for (String k : m.keySet()) {
            if (!known.contains(k)) {
                StringBuilder sb = new StringBuilder();
                Json.writeString(k.length() > 64 ? k.substring(0, 64) + "..." : k, sb); // an attacker's key may be megabytes
                throw ServeException.invalid(sb.toString(), "unknown field; " + route + " takes " + String.join(", ", known.stream().sorted().toList()));
            }
        }
        return m;
    }

    /** Decodes strict UTF-8: a malformed or truncated sequence, or an encoded surrogate, is an error naming its byte. */
    static String utf8(byte[] body) {
        CharsetDecoder d = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(body);
        CharBuffer out = CharBuffer.allocate(body.length);
        CoderResult r = d.decode(in, out, true);
        if (!r.isError()) r = d.flush(out);
        if (r.isError()) throw ServeException.invalid("body", "invalid UTF-8 at byte " + in.position());
        return out.flip().toString();
    }

    private static Object required(Map<String, Object> m, String field) {
        Object v = m.get(field);
        if (v == null) throw ServeException.invalid(field, m.containsKey(field) ? "must not be null" : "is required");
        return v;
    }

    /** A string or an array of strings, as a list. */
    private static List<String> texts(Map<String, Object> m, String field) {
        Object v = required(m, field);
        if (v instanceof String s) return List.of(s);
        if (!(v instanceof List<?> list)) throw ServeException.invalid(field, "expected a string or an array of strings but found " + kind(v));
        if (list.isEmpty()) throw ServeException.invalid(field, "must not be empty");
        List<String> out = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof String s)) {
                String hint = list.get(i) instanceof Number || list.get(i) instanceof List<?> ? " (token ids are not accepted: send text)" : "";
                throw ServeException.invalid(field + "[" + i + "]", "expected a string but found " + kind(list.get(i)) + hint);
            }
            out.add(s);
        }
        return out;
    }

    /** {@code [text]} or {@code [text, pair]}. */
    private static String[] sequence(List<?> seq, String field) {
        if (seq.isEmpty() || seq.size() > 2) {
            throw ServeException.invalid(field, "expected [text] or [text, pair] but found " + seq.size() + " items"
                    + (seq.size() > 2 ? " (a batch is an array of arrays: [[text], [text, pair], ...])" : ""));
        }
        String[] out = new String[seq.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(seq.get(i) instanceof String s)) throw ServeException.invalid(field + "[" + i + "]", "expected a string but found " + kind(seq.get(i)));
            out[i] = s;
        }
        return out;
    }

    private static boolean bool(Map<String, Object> m, String field, boolean dflt) {
        Boolean b = optionalBool(m, field);
        return b == null ? dflt : b;
    }

    private static Boolean optionalBool(Map<String, Object> m, String field) {
        Object v = m.get(field);
        if (v == null) return null;
        if (!(v instanceof Boolean b)) throw ServeException.invalid(field, "expected true or false but found " + kind(v));
        return b;
    }

    private static long integer(Object v, String field) {
        try {
            return Json.asLong(v, field);
        } catch (Json.JsonException e) {
            throw ServeException.invalid(field, "expected an integer but found " + kind(v));
        }
    }

    /** What a JSON value is, for messages ("a number", "an object"). */
    static String kind(Object v) {
        return switch (v) {
            case null -> "null";
            case String _ -> "a string";
            case Boolean _ -> "a boolean";
            case Number _ -> "a number";
            case List<?> _ -> "an array";
            case Map<?, ?> _ -> "an object";
            default -> v.getClass().getSimpleName();
        };
    }
}
