package dev.bertj.api;

/**
 * How a sentence embedding is made from the token states, as sentence-transformers' {@code Pooling}
 * module does it. Padding never counts.
 */
public enum Pooling {
    /** The average of the real tokens' states ({@code pooling_mode_mean_tokens}); the default. */
    MEAN,
    /** The first token's ({@code [CLS]}) state ({@code pooling_mode_cls_token}). */
    CLS,
    /** The per-dimension maximum over the real tokens ({@code pooling_mode_max_tokens}). */
    MAX
}
