package dev.bertj.cpu;

import dev.bertj.backend.Labels;

import java.util.Arrays;

/** The CPU's pooling and loss over host arrays: the mean over real tokens, and PyTorch's cross-entropy. */
final class CpuReductions {
    private CpuReductions() { }

    /** {@code out[b] = mean of hidden[b, t] over t with mask 1} ({@code mask} null for all). */
    static void meanPool(float[] x, int[] mask, int batch, int seq, int h, float[] f) {
        Arrays.fill(f, 0, batch * h, 0f);
        for (int r = 0; r < batch; r++) {
            int count = 0;
            for (int t = 0; t < seq; t++) {
                if (mask != null && mask[r * seq + t] == 0) continue;
                count++;
                for (int i = 0; i < h; i++) f[r * h + i] += x[(r * seq + t) * h + i];
            }
            float inv = 1f / Math.max(count, 1e-9f);
            for (int i = 0; i < h; i++) f[r * h + i] *= inv;
        }
    }

    /** {@code dHidden[b, t] = dOut[b] / count_b} at real tokens, 0 at padding (written, not added). */
    static void meanPoolBackward(float[] df, int[] mask, int batch, int seq, int h, float[] d) {
        for (int r = 0; r < batch; r++) {
            int count = 0;
            for (int t = 0; t < seq; t++) if (mask == null || mask[r * seq + t] != 0) count++;
            float inv = 1f / Math.max(count, 1);
            for (int t = 0; t < seq; t++) {
                int o = (r * seq + t) * h;
                if (mask != null && mask[r * seq + t] == 0) Arrays.fill(d, o, o + h, 0f);
                else for (int i = 0; i < h; i++) d[o + i] = df[r * h + i] * inv;
            }
        }
    }

    /**
     * PyTorch's {@code F.cross_entropy} (mean over labelled rows, ignore_index -100), in double per row:
     * <pre>
     * loss = mean over rows with a label of ( logsumexp(logits[r]) - logits[r][label[r]] )
     * dlogits[r] = (softmax(logits[r]) - onehot(label[r])) / count      (0 for ignored rows)
     * </pre>
     * Returns NaN when no row has a label (as PyTorch); {@code d} may be null.
     */
    static float crossEntropy(float[] logits, int rows, int classes, int[] labels, float[] d) {
        int counted = Labels.count(labels, rows, classes);
        double total = 0;
        for (int r = 0; r < rows; r++) {
            int y = labels[r], o = r * classes;
            boolean ignored = y == Labels.IGNORE_INDEX;
            if (ignored && d == null) continue;
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) max = Math.max(max, logits[o + c]);
            double sum = 0;
            for (int c = 0; c < classes; c++) sum += Math.exp(logits[o + c] - max);
            if (!ignored) total += max + Math.log(sum) - logits[o + y];
            if (d == null) continue;
            if (ignored) {
                Arrays.fill(d, o, o + classes, 0f);
                continue;
            }
            for (int c = 0; c < classes; c++) {
                float sm = (float) (Math.exp(logits[o + c] - max) / sum);
                d[o + c] = ((c == y ? sm - 1f : sm)) / counted;
            }
        }
        return (float) (total / counted);
    }
}
