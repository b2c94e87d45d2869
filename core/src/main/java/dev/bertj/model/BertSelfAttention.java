package dev.bertj.model;

import dev.bertj.cpu.Kernels;
import dev.bertj.nn.Linear;

import java.util.stream.IntStream;

/**
 * {@code attention.self}: multi-head scaled dot-product attention, bidirectional (no causal mask),
 * with HF's additive padding mask.
 * <pre>
 * q, k, v = x Wq^T + bq, x Wk^T + bk, x Wv^T + bv          split into heads of size d = H / heads
 * scores[b,h,s,t] = q[b,s,h,:] . k[b,t,h,:] / sqrt(d) + (1 - mask[b,t]) * float32.min
 * probs = softmax over t;   context[b,s,h,:] = sum_t probs[b,h,s,t] * v[b,t,h,:]
 * </pre>
 */
public final class BertSelfAttention {
    final Linear query;
    final Linear key;
    final Linear value;
    private final int heads;
    private final int headDim;

    BertSelfAttention(BertConfig c, WeightSource w, String prefix) {
        int h = c.hiddenSize();
        heads = c.numAttentionHeads();
        headDim = h / heads;
        query = new Linear(w.get(prefix + "query.weight", WeightSource.Init.NORMAL, h, h), w.get(prefix + "query.bias", WeightSource.Init.ZEROS, h));
        key = new Linear(w.get(prefix + "key.weight", WeightSource.Init.NORMAL, h, h), w.get(prefix + "key.bias", WeightSource.Init.ZEROS, h));
        value = new Linear(w.get(prefix + "value.weight", WeightSource.Init.NORMAL, h, h), w.get(prefix + "value.bias", WeightSource.Init.ZEROS, h));
    }

    /**
     * @param probsOut if not null, receives the attention probabilities {@code [B, heads, S, S]}
     */
    void forward(Kernels k, float[] x, int[] mask, int batch, int seq, float[] context, float[] probsOut) {
        int hidden = heads * headDim, rows = batch * seq;
        float[] q = new float[rows * hidden], kk = new float[rows * hidden], v = new float[rows * hidden];
        query.forward(k, x, rows, q);
        key.forward(k, x, rows, kk);
        value.forward(k, x, rows, v);
        float scale = (float) (1.0 / Math.sqrt(headDim));
        IntStream.range(0, batch * heads).parallel().forEach(bh -> {
            int b = bh / heads, h = bh % heads;
            float[] p = new float[seq];
            for (int s = 0; s < seq; s++) {
                int qo = (b * seq + s) * hidden + h * headDim;
                float max = Float.NEGATIVE_INFINITY;
                for (int t = 0; t < seq; t++) {
                    float sc = k.dot(q, qo, kk, (b * seq + t) * hidden + h * headDim, headDim) * scale;
                    // HF adds float32.min where mask is 0; exp of that underflows to exactly 0.
                    if (mask != null && mask[b * seq + t] == 0) sc += -Float.MAX_VALUE;
                    p[t] = sc;
                    max = Math.max(max, sc);
                }
                double sum = 0;
                for (int t = 0; t < seq; t++) {
                    p[t] = (float) Math.exp(p[t] - max);
                    sum += p[t];
                }
                float inv = (float) (1.0 / sum);
                int co = (b * seq + s) * hidden + h * headDim;
                java.util.Arrays.fill(context, co, co + headDim, 0f);
                for (int t = 0; t < seq; t++) {
                    p[t] *= inv;
                    if (p[t] != 0f) k.axpy(p[t], v, (b * seq + t) * hidden + h * headDim, context, co, headDim);
                }
                if (probsOut != null) System.arraycopy(p, 0, probsOut, ((b * heads + h) * seq + s) * seq, seq);
            }
        });
    }
}
