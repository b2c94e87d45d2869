package dev.bertj.model;

import dev.bertj.backend.Backend;
import dev.bertj.backend.Backends;

/**
 * Sentence embeddings from token states, with sentence-transformers' conventions: mean pooling
 * weights tokens by the attention mask (padding never counts), cls takes token 0, and
 * normalization divides by the L2 norm (clamped at 1e-12, as torch.nn.functional.normalize).
 */
public final class SentenceEmbeddings {
    private SentenceEmbeddings() { }

    /** {@code sum_s h[b,s,:] * mask[b,s] / max(sum_s mask[b,s], 1e-9)}: [B, H]. */
    public static float[] mean(float[] hidden, int[] mask, int batch, int seq, int h) {
        float[] f = new float[batch * h];
        Backend cpu = Backends.cpu();
        cpu.meanPool(cpu.wrap(hidden), mask, batch, seq, h, cpu.wrap(f));
        return f;
    }

    /** Token 0 of each row: [B, H]. */
    public static float[] cls(float[] hidden, int batch, int seq, int h) {
        float[] f = new float[batch * h];
        for (int r = 0; r < batch; r++) System.arraycopy(hidden, r * seq * h, f, r * h, h);
        return f;
    }

    /**
     * sentence-transformers' max pooling, {@code max_{s: mask[b,s]=1} h[b,s,:]}: [B, H]. A row with no
     * real token stays at -infinity, as torch's max over an empty set would fail rather than invent one.
     */
    public static float[] max(float[] hidden, int[] mask, int batch, int seq, int h) {
        float[] out = new float[batch * h];
        java.util.Arrays.fill(out, Float.NEGATIVE_INFINITY);
        for (int r = 0; r < batch; r++) {
            for (int t = 0; t < seq; t++) {
                if (mask[r * seq + t] == 0) continue;
                for (int i = 0; i < h; i++) out[r * h + i] = Math.max(out[r * h + i], hidden[(r * seq + t) * h + i]);
            }
        }
        return out;
    }

    /** L2-normalizes each row of {@code x} [rows, h] in place. */
    public static void normalize(float[] x, int rows, int h) {
        for (int r = 0; r < rows; r++) {
            double sq = 0;
            for (int i = 0; i < h; i++) sq += (double) x[r * h + i] * x[r * h + i];
            float inv = (float) (1.0 / Math.max(Math.sqrt(sq), 1e-12));
            for (int i = 0; i < h; i++) x[r * h + i] *= inv;
        }
    }
}
