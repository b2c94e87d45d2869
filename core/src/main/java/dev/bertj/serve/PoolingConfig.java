package dev.bertj.serve;

import dev.bertj.io.Json;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * How a model's token states become one sentence embedding: sentence-transformers'
 * {@code 1_Pooling/config.json} when the model directory has one, else mean pooling (what
 * sentence-transformers itself assumes for a plain BERT). Only the modes bertj computes are
 * accepted; any other mode switched on is refused with the file and the key named, so a model is
 * never served with a pooling it was not trained for.
 */
public enum PoolingConfig {
    /** The average of the token states over real tokens ({@code pooling_mode_mean_tokens}). */
    MEAN,
    /** The [CLS] token's state ({@code pooling_mode_cls_token}). */
    CLS;

    /** The name TEI and sentence-transformers use ({@code mean}, {@code cls}). */
    public String id() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /**
     * The pooling of the model in {@code dir}: read from {@code dir/1_Pooling/config.json} when
     * present, else {@link #MEAN}.
     *
     * @throws IOException if the file cannot be read
     * @throws IllegalArgumentException if it is not JSON, or asks for a pooling bertj does not compute,
     *     or for none or several; the message names the file and the key
     */
    public static PoolingConfig of(Path dir) throws IOException {
        Path file = dir.resolve("1_Pooling").resolve("config.json");
        if (!Files.isRegularFile(file)) return MEAN;
        return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
    }

    /** Parses the text of a {@code 1_Pooling/config.json}; {@code source} names it in errors. */
    public static PoolingConfig parse(String json, String source) {
        Map<String, Object> m = Json.asObject(Json.parse(json, source), source);
        List<String> on = new ArrayList<>();
        for (Map.Entry<String, Object> e : m.entrySet()) {
            if (e.getKey().startsWith("pooling_mode_") && Boolean.TRUE.equals(e.getValue())) on.add(e.getKey());
        }
        if (on.size() != 1) {
            throw new IllegalArgumentException(source + ": exactly one pooling_mode_* must be true, found " + (on.isEmpty() ? "none" : on));
        }
        return switch (on.getFirst()) {
            case "pooling_mode_mean_tokens" -> MEAN;
            case "pooling_mode_cls_token" -> CLS;
            default -> throw new IllegalArgumentException(source + ": " + on.getFirst()
                    + " is not supported; bertj pools with pooling_mode_mean_tokens or pooling_mode_cls_token");
        };
    }
}
