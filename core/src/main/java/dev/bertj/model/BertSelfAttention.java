package dev.bertj.model;

import dev.bertj.cpu.Kernels;
import dev.bertj.nn.Gradients;
import dev.bertj.nn.Linear;

import java.util.stream.IntStream;

/**
 * {@code attention.self}: multi-head scaled dot-product attention, bidirectional (no causal mask),
 * with HF's additive padding mask.
 * <pre>
 * q, k, v = x Wq^T + bq, x Wk^T + bk, x Wv^T + bv          split into heads of size d = H / heads
 * scores[b,h,s,t] = q[b,s,h,:] . k[b,t,h,:] / sqrt(d) + (1 - mask[b,t]) * float32.min
 * P = softmax over t;  P' = dropout(P);  context[b,s,h,:] = sum_t P'[b,h,s,t] * v[b,t,h,:]
 *
 * backward:  dP'[s,t] = dctx[s] . v[t];   dv[t] += sum_s P'[s,t] dctx[s];   dP = dropout'(dP')
 *            dscore[s,t] = P[s,t] * (dP[s,t] - sum_t' P[s,t'] dP[s,t'])      (softmax')
 *            dq[s] = sum_t dscore[s,t] k[t] / sqrt(d);   dk[t] = sum_s dscore[s,t] q[s] / sqrt(d)
 *            dx = dq Wq + dk Wk + dv Wv
 * </pre>
 */
public final class BertSelfAttention {
    final Linear query;
    final Linear key;
    final Linear value;
    private final String prefix;
    private final int heads;
    private final int headDim;
    private final float dropout;

    /** What backward needs: the input, q, k, v, probabilities before dropout, and the dropout mask. */
    record Ctx(float[] x, float[] q, float[] k, float[] v, float[] probs, boolean[] keep, int[] mask, int batch, int seq) { }

    BertSelfAttention(BertConfig c, WeightSource w, String prefix) {
        int h = c.hiddenSize();
        this.prefix = prefix;
        heads = c.numAttentionHeads();
        headDim = h / heads;
        dropout = c.attentionProbsDropoutProb();
        query = new Linear(w.get(prefix + "query.weight", WeightSource.Init.NORMAL, h, h), w.get(prefix + "query.bias", WeightSource.Init.ZEROS, h));
        key = new Linear(w.get(prefix + "key.weight", WeightSource.Init.NORMAL, h, h), w.get(prefix + "key.bias", WeightSource.Init.ZEROS, h));
        value = new Linear(w.get(prefix + "value.weight", WeightSource.Init.NORMAL, h, h), w.get(prefix + "value.bias", WeightSource.Init.ZEROS, h));
    }

    /** Inference; {@code probsOut}, if not null, receives the probabilities {@code [B, heads, S, S]}. */
    void forward(Kernels k, float[] x, int[] mask, int batch, int seq, float[] context, float[] probsOut) {
        Ctx ctx = project(k, x, mask, batch, seq, probsOut);
        attend(k, ctx, context, null);
    }

    Ctx forwardTrain(Kernels k, float[] x, int[] mask, int batch, int seq, float[] context, TrainMode mode, int site) {
        Ctx ctx = project(k, x, mask, batch, seq, new float[batch * heads * seq * seq]);
        boolean[] keep = null;
        if (mode.enabled() && dropout > 0f) {
            // Dropout on a copy: backward needs the probabilities before it.
            float[] dropped = ctx.probs.clone();
            keep = mode.drop(dropped, dropped.length, dropout, site);
            attend(k, ctx, context, dropped);
        } else {
            attend(k, ctx, context, ctx.probs);
        }
        return new Ctx(ctx.x, ctx.q, ctx.k, ctx.v, ctx.probs, keep, mask, batch, seq);
    }

    /** Q, K, V projections and the softmax probabilities (into {@code probs}, or a scratch row when null). */
    private Ctx project(Kernels k, float[] x, int[] mask, int batch, int seq, float[] probs) {
        int hidden = heads * headDim, rows = batch * seq;
        float[] q = new float[rows * hidden], kk = new float[rows * hidden], v = new float[rows * hidden];
        query.forward(k, x, rows, q);
        key.forward(k, x, rows, kk);
        value.forward(k, x, rows, v);
        float[] p = probs != null ? probs : new float[batch * heads * seq * seq];
        float scale = (float) (1.0 / Math.sqrt(headDim));
        IntStream.range(0, batch * heads).parallel().forEach(bh -> {
            int b = bh / heads, h = bh % heads;
            for (int s = 0; s < seq; s++) {
                int qo = (b * seq + s) * hidden + h * headDim, po = (bh * seq + s) * seq;
                float max = Float.NEGATIVE_INFINITY;
                for (int t = 0; t < seq; t++) {
                    float sc = k.dot(q, qo, kk, (b * seq + t) * hidden + h * headDim, headDim) * scale;
                    // HF adds float32.min where mask is 0; exp of that underflows to exactly 0.
                    if (mask != null && mask[b * seq + t] == 0) sc += -Float.MAX_VALUE;
                    p[po + t] = sc;
                    max = Math.max(max, sc);
                }
                double sum = 0;
                for (int t = 0; t < seq; t++) {
                    p[po + t] = (float) Math.exp(p[po + t] - max);
                    sum += p[po + t];
                }
                float inv = (float) (1.0 / sum);
                for (int t = 0; t < seq; t++) p[po + t] *= inv;
            }
        });
        return new Ctx(x, q, kk, v, p, null, mask, batch, seq);
    }

    /** {@code context = P v} with the given (possibly dropped-out) probabilities. */
    private void attend(Kernels k, Ctx c, float[] context, float[] probs) {
        float[] p = probs != null ? probs : c.probs;
        int hidden = heads * headDim, seq = c.seq;
        IntStream.range(0, c.batch * heads).parallel().forEach(bh -> {
            int b = bh / heads, h = bh % heads;
            for (int s = 0; s < seq; s++) {
                int co = (b * seq + s) * hidden + h * headDim, po = (bh * seq + s) * seq;
                java.util.Arrays.fill(context, co, co + headDim, 0f);
                for (int t = 0; t < seq; t++) {
                    float w = p[po + t];
                    if (w != 0f) k.axpy(w, c.v, (b * seq + t) * hidden + h * headDim, context, co, headDim);
                }
            }
        });
    }

    /** Backward: {@code dx} receives d loss / d x for {@code dContext}; parameter gradients accumulate in {@code g}. */
    void backward(Kernels k, Ctx c, float[] dContext, float[] dx, Gradients g) {
        int hidden = heads * headDim, seq = c.seq, rows = c.batch * seq;
        float[] dq = new float[rows * hidden], dk = new float[rows * hidden], dv = new float[rows * hidden];
        float scale = (float) (1.0 / Math.sqrt(headDim));
        float keepScale = 1f / (1f - dropout);
        IntStream.range(0, c.batch * heads).parallel().forEach(bh -> {
            int b = bh / heads, h = bh % heads;
            float[] dp = new float[seq];
            for (int s = 0; s < seq; s++) {
                int co = (b * seq + s) * hidden + h * headDim, po = (bh * seq + s) * seq;
                double dot = 0;
                for (int t = 0; t < seq; t++) {
                    int to = (b * seq + t) * hidden + h * headDim;
                    float pr = c.probs[po + t];
                    float pDropped = c.keep == null ? pr : (c.keep[po + t] ? pr * keepScale : 0f);
                    if (pDropped != 0f) k.axpy(pDropped, dContext, co, dv, to, headDim);
                    float d = k.dot(dContext, co, c.v, to, headDim);
                    if (c.keep != null) d = c.keep[po + t] ? d * keepScale : 0f;
                    dp[t] = d;
                    dot += pr * d;
                }
                for (int t = 0; t < seq; t++) {
                    float ds = c.probs[po + t] * (dp[t] - (float) dot) * scale;
                    if (ds == 0f) continue;
                    int to = (b * seq + t) * hidden + h * headDim;
                    k.axpy(ds, c.k, to, dq, co, headDim);
                    k.axpy(ds, c.q, co, dk, to, headDim);
                }
            }
        });
        float[] tmp = new float[rows * hidden];
        query.backward(k, prefix + "query", c.x, dq, rows, dx, g);
        key.backward(k, prefix + "key", c.x, dk, rows, tmp, g);
        for (int i = 0; i < dx.length; i++) dx[i] += tmp[i];
        value.backward(k, prefix + "value", c.x, dv, rows, tmp, g);
        for (int i = 0; i < dx.length; i++) dx[i] += tmp[i];
    }
}
