package dev.bertj.serve;

import dev.bertj.io.Json;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The JSON shapes of responses (TEI's and OpenAI's), written with {@link Json}. Floats are written
 * as their shortest decimal, so a client reading them as float32 gets the server's bits back.
 */
public final class Responses {
    private Responses() { }

    /** {@code [[float, ...], ...]}: one vector per input (TEI's /embed, always a batch). */
    public static String embeddings(List<float[]> vectors) {
        return Json.write(vectors);
    }

    /**
     * OpenAI's embeddings list. With {@code base64}, each vector is its float32 values in
     * little-endian order, Base64-encoded, as OpenAI sends them (and its SDKs decode them).
     */
    public static String openAi(EmbeddingService.Embeddings e, String model, boolean base64) {
        List<Object> data = new ArrayList<>(e.vectors().size());
        for (int i = 0; i < e.vectors().size(); i++) {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("object", "embedding");
            d.put("index", i);
            d.put("embedding", base64 ? base64(e.vectors().get(i)) : e.vectors().get(i));
            data.add(d);
        }
        Map<String, Object> usage = new LinkedHashMap<>();
        usage.put("prompt_tokens", e.promptTokens());
        usage.put("total_tokens", e.promptTokens());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("object", "list");
        m.put("data", data);
        m.put("model", model);
        m.put("usage", usage);
        return Json.write(m);
    }

    static String base64(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return Base64.getEncoder().encodeToString(b.array());
    }

    /** {@code [{"label", "score"}, ...]} per input, best first; a single input's list alone, as TEI answers. */
    public static String predictions(List<List<EmbeddingService.Prediction>> perInput, boolean single) {
        List<Object> out = new ArrayList<>(perInput.size());
        for (List<EmbeddingService.Prediction> ps : perInput) {
            List<Object> row = new ArrayList<>(ps.size());
            for (EmbeddingService.Prediction p : ps) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("label", p.label());
                m.put("score", p.score());
                row.add(m);
            }
            out.add(row);
        }
        return Json.write(single ? out.getFirst() : out);
    }

    /** Per input {@code [{"id", "text", "special", "start", "stop"}, ...]} (always a batch, as TEI). */
    public static String tokens(List<List<EmbeddingService.Token>> perInput) {
        List<Object> out = new ArrayList<>(perInput.size());
        for (List<EmbeddingService.Token> ts : perInput) {
            List<Object> row = new ArrayList<>(ts.size());
            for (EmbeddingService.Token t : ts) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("id", t.id());
                m.put("text", t.text());
                m.put("special", t.special());
                m.put("start", t.start());
                m.put("stop", t.stop());
                row.add(m);
            }
            out.add(row);
        }
        return Json.write(out);
    }

    /** ./bertj fill-mask's output for each text; a bare string's alone. */
    public static String fillMask(List<Object> perInput, boolean single) {
        return Json.write(single ? perInput.getFirst() : perInput);
    }

    /** TEI's error body: {@code {"error": "...", "error_type": "..."}}. */
    public static String error(ServeException e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("error", e.getMessage());
        m.put("error_type", e.type().wireName());
        return Json.write(m);
    }

    /** {@code GET /info}: TEI's fields, plus dimensions, pooling, labels and the routes this model serves. */
    public static String info(EmbeddingService s, ServerConfig c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model_id", s.modelName());
        m.put("model_dtype", "float32");
        Map<String, Object> type = new LinkedHashMap<>();
        List<String> labels = s.labels();
        if (labels != null) {
            Map<String, Object> id2label = new LinkedHashMap<>();
            for (int i = 0; i < labels.size(); i++) id2label.put(Integer.toString(i), labels.get(i));
            type.put("classifier", Map.of("id2label", id2label));
        } else {
            type.put("embedding", Map.of("pooling", s.pooling().id()));
        }
        m.put("model_type", type);
        m.put("dimensions", s.dimensions());
        m.put("pooling", s.pooling().id());
        m.put("labels", labels);
        m.put("fill_mask", s.servesFillMask());
        m.put("max_input_length", s.maxInputLength());
        m.put("max_batch_tokens", s.settings().maxBatchTokens());
        m.put("max_client_batch_size", s.settings().maxClientBatchSize());
        m.put("max_concurrent_requests", c.maxConcurrentRequests());
        m.put("payload_limit", c.payloadLimit());
        m.put("auto_truncate", s.settings().autoTruncate());
        m.put("device", s.settings().device().toString());
        m.put("version", version());
        return Json.write(m);
    }

    private static volatile String version;

    /** bertj-core's version from the jar's Maven metadata; "dev" when run from classes. */
    static String version() {
        String v = version;
        if (v != null) return v;
        Properties p = new Properties();
        try (InputStream in = Responses.class.getResourceAsStream("/META-INF/maven/dev.bertj/bertj-core/pom.properties")) {
            if (in != null) p.load(new java.io.InputStreamReader(in, StandardCharsets.UTF_8));
        } catch (IOException e) {
            // no metadata: report "dev"
        }
        version = v = p.getProperty("version", "dev");
        return v;
    }
}
