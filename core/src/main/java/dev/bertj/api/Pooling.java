package dev.bertj.api;

import dev.bertj.model.SentenceEmbeddings;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * How a sentence embedding is made from the token states, as sentence-transformers' {@code Pooling}
 * module does it. Padding never counts. The library ({@link SentenceEmbedder}), the server and the
 * Spark transformers all pool through {@link #pool}, so a text gets one vector whichever door it came in by.
 */
public enum Pooling {
    /** The average of the real tokens' states ({@code pooling_mode_mean_tokens}); the default. */
    MEAN,
    /** The first token's ({@code [CLS]}) state ({@code pooling_mode_cls_token}). */
    CLS,
    /** The per-dimension maximum over the real tokens ({@code pooling_mode_max_tokens}). */
    MAX;

    /** The name TEI and sentence-transformers use: {@code mean}, {@code cls}, {@code max}. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The pooling a model directory asks for: its sentence-transformers {@code modules.json} and
     * {@code 1_Pooling/config.json} when present, else {@link #MEAN} (what sentence-transformers
     * assumes for a plain BERT).
     *
     * @throws IOException if a file cannot be read
     * @throws IllegalArgumentException if a file is not JSON or asks for a pooling bertj does not
     *     compute; the message names the file and the key
     */
    public static Pooling of(Path modelDir) throws IOException {
        return SentenceTransformersFiles.read(modelDir).pooling();
    }

    /**
     * Pools {@code hidden} [batch, seq, h] over the real tokens of {@code mask} [batch, seq] into
     * [batch, h]; not normalised.
     */
    public float[] pool(float[] hidden, int[] mask, int batch, int seq, int h) {
        return switch (this) {
            case MEAN -> SentenceEmbeddings.mean(hidden, mask, batch, seq, h);
            case CLS -> SentenceEmbeddings.cls(hidden, batch, seq, h);
            case MAX -> SentenceEmbeddings.max(hidden, mask, batch, seq, h);
        };
    }
}
