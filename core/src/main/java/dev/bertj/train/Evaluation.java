package dev.bertj.train;

import java.util.Map;

/**
 * What an evaluation pass reports: {@link Metrics} for a classifier (loss, accuracy, F1, confusion
 * matrix), {@link MaskedLmMetrics} for masked-LM (loss and perplexity).
 */
public sealed interface Evaluation permits Metrics, MaskedLmMetrics {
    /** The mean loss (NaN when there was nothing to score). */
    double loss();

    /** Number of examples evaluated. */
    int count();

    /** As JSON-ready values, for metrics.json and trainer_state.json. */
    Map<String, Object> toJson();

    /** One line for the progress output, e.g. {@code loss 0.1234, accuracy 0.9700, f1 0.9500}. */
    String summary();
}
