package dev.bertj.nn;

/**
 * Cross-entropy on logits, as PyTorch's {@code F.cross_entropy} with reduction "mean" and
 * ignore_index -100:
 * <pre>
 * loss = mean over rows with label != -100 of ( logsumexp(logits[r]) - logits[r][label[r]] )
 * dlogits[r] = (softmax(logits[r]) - onehot(label[r])) / count      (0 for ignored rows)
 * </pre>
 */
public final class CrossEntropy {
    /** PyTorch's default ignore_index. */
    public static final int IGNORE_INDEX = -100;

    private CrossEntropy() { }

    /** The mean loss over the rows that have a label; NaN when no row has one (as PyTorch). */
    public static float forward(float[] logits, int rows, int classes, int[] labels) {
        double total = 0;
        int counted = 0;
        for (int r = 0; r < rows; r++) {
            int y = labels[r];
            if (y == IGNORE_INDEX) continue;
            if (y < 0 || y >= classes) throw new IllegalArgumentException("label " + y + " of row " + r + " is outside 0.." + (classes - 1));
            int o = r * classes;
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) max = Math.max(max, logits[o + c]);
            double sum = 0;
            for (int c = 0; c < classes; c++) sum += Math.exp(logits[o + c] - max);
            total += max + Math.log(sum) - logits[o + y];
            counted++;
        }
        return (float) (total / counted);
    }

    /** d loss / d logits for the mean loss of {@link #forward}. */
    public static float[] backward(float[] logits, int rows, int classes, int[] labels) {
        float[] d = new float[rows * classes];
        int counted = 0;
        for (int r = 0; r < rows; r++) if (labels[r] != IGNORE_INDEX) counted++;
        if (counted == 0) return d;
        softmax(logits, rows, classes, d);
        for (int r = 0; r < rows; r++) {
            if (labels[r] == IGNORE_INDEX) {
                java.util.Arrays.fill(d, r * classes, (r + 1) * classes, 0f);
                continue;
            }
            d[r * classes + labels[r]] -= 1f;
            for (int c = 0; c < classes; c++) d[r * classes + c] /= counted;
        }
        return d;
    }

    /** Softmax of each row into {@code out}. */
    public static void softmax(float[] logits, int rows, int classes, float[] out) {
        for (int r = 0; r < rows; r++) {
            int o = r * classes;
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) max = Math.max(max, logits[o + c]);
            double sum = 0;
            for (int c = 0; c < classes; c++) sum += Math.exp(logits[o + c] - max);
            for (int c = 0; c < classes; c++) out[o + c] = (float) (Math.exp(logits[o + c] - max) / sum);
        }
    }
}
