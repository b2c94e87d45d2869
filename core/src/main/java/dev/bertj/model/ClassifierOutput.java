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

    /** The softmax of each row of the logits ({@code [B, classes]}), in double before rounding, as PyTorch's. */
    public float[] probabilities() {
        int rows = logits.dim(0), classes = logits.dim(1);
        float[] x = logits.data(), out = new float[x.length];
        for (int r = 0; r < rows; r++) {
            int o = r * classes;
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) max = Math.max(max, x[o + c]);
            double sum = 0;
            for (int c = 0; c < classes; c++) sum += Math.exp(x[o + c] - max);
            for (int c = 0; c < classes; c++) out[o + c] = (float) (Math.exp(x[o + c] - max) / sum);
        }
        return out;
    }
}
