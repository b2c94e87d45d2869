package dev.bertj.model;

import dev.bertj.tensor.Tensor;

/**
 * HF's {@code SequenceClassifierOutput}: logits [B, classes], and the mean cross-entropy loss
 * when labels were given (else NaN).
 *
 * @param logits [B, classes]
 * @param loss mean cross-entropy, or NaN without labels
 */
public record ClassifierOutput(Tensor logits, float loss) {
    /** Whether a loss was computed. */
    public boolean hasLoss() {
        return !Float.isNaN(loss);
    }
}
