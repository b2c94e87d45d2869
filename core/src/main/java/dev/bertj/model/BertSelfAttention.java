package dev.bertj.model;

import dev.bertj.cpu.Kernels;
import dev.bertj.cpu.PackedWeight;
import dev.bertj.cpu.Parallel;
import dev.bertj.nn.Gradients;
import dev.bertj.nn.Linear;


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

    /** What backward needs: the input, q|k|v rows ([rows, 3H]), probabilities before dropout, the dropout mask. */
    record Ctx(float[] x, float[] qkv, float[] probs, boolean[] keep, int batch, int seq) { }

    /** The three projections as one [3H, H] weight, so Q, K and V come from a single GEMM. */
    private record Fused(Kernels kernels, int version, PackedWeight weight, float[] bias, float[] concat) { }

    private volatile Fused fused;

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

    private Fused fused(Kernels k) {
        Linear[] parts = {query, key, value};
        int version = 0;
        for (Linear l : parts) version = 31 * (31 * version + l.weight().version()) + l.bias().version();
        Fused f = fused;
        if (f == null || f.kernels != k || f.version != version) {
            int h = heads * headDim;
            boolean reuse = f != null && f.kernels == k;
            // After an optimizer step, refill the same buffers (training allocates nothing per step).
            float[] w = reuse ? f.concat : new float[3 * h * h], b = reuse ? f.bias : new float[3 * h];
            for (int i = 0; i < 3; i++) {
                System.arraycopy(parts[i].weight().data(), 0, w, i * h * h, h * h);
                System.arraycopy(parts[i].bias().data(), 0, b, i * h, h);
            }
            PackedWeight pw;
            if (reuse) {
                k.repack(w, f.weight);
                pw = f.weight;
            } else {
                pw = k.pack(w, 3 * h, h);
            }
            f = new Fused(k, version, pw, b, w);
            fused = f;
        }
        return f;
    }

    /** HF's additive padding mask: 0 where attended, float32.min where padded (exp underflows to exactly 0). */
    static float[] additiveMask(int[] mask, int n) {
        if (mask == null) return null;
        float[] m = new float[n];
        for (int i = 0; i < n; i++) m[i] = mask[i] == 0 ? -Float.MAX_VALUE : 0f;
        return m;
    }

    /** q|k|v = x [Wq; Wk; Wv]^T + [bq; bk; bv] into {@code qkv} ({@code [rows, 3H]}). */
    private float[] project(Kernels k, float[] x, int rows, float[] qkv) {
        Fused f = fused(k);
        k.linear(x, rows, f.weight, f.bias, qkv);
        return qkv;
    }

    /** Per-thread scratch for one head's scores or probabilities. */
    private static final ThreadLocal<float[]> SCORES = ThreadLocal.withInitial(() -> new float[0]);

    /** This thread's scratch of at least {@code n} floats (one head's scores; grows, never shrinks). */
    private static float[] scratch(int n) {
        float[] p = SCORES.get();
        if (p.length < n) SCORES.set(p = new float[n]);
        return p;
    }

    /**
     * {@code scores = q_h k_h^T}, then the masked, scaled softmax, for one (batch row, head): a
     * [S, d] x [d, S] GEMM on strided views of the q|k|v rows.
     */
    private void probabilities(Kernels k, float[] qkv, float[] maskAdd, int b, int h, int seq, float[] p, int po) {
        int hidden = heads * headDim, ld = 3 * hidden, row0 = b * seq * ld;
        k.gemm(seq, seq, headDim, qkv, row0 + h * headDim, ld, 1, qkv, row0 + hidden + h * headDim, 1, ld, p, po, seq, false);
        float scale = (float) (1.0 / Math.sqrt(headDim));
        for (int s = 0; s < seq; s++) k.softmax(p, po + s * seq, seq, scale, maskAdd, b * seq);
    }

    /** {@code context_h = P v_h}: [S, S] x [S, d] into the head's columns of {@code context}. */
    private void context(Kernels k, float[] qkv, float[] p, int po, int b, int h, int seq, float[] context) {
        int hidden = heads * headDim, ld = 3 * hidden;
        k.gemm(seq, headDim, seq, p, po, seq, 1, qkv, b * seq * ld + 2 * hidden + h * headDim, ld, 1,
                context, b * seq * hidden + h * headDim, hidden, false);
    }

    /**
     * Inference into {@code context}, with {@code qkv} ({@code [rows, 3H]}) as scratch and the additive
     * mask of {@link #additiveMask}; {@code probsOut}, if not null, receives the probabilities
     * {@code [B, heads, S, S]}.
     */
    void forward(Kernels k, float[] x, float[] maskAdd, int batch, int seq, float[] qkv, float[] context, float[] probsOut) {
        project(k, x, batch * seq, qkv);
        Parallel.forEach(batch * heads, bh -> {
            int b = bh / heads, h = bh % heads;
            float[] p = probsOut != null ? probsOut : scratch(seq * seq);
            int po = probsOut != null ? bh * seq * seq : 0;
            probabilities(k, qkv, maskAdd, b, h, seq, p, po);
            context(k, qkv, p, po, b, h, seq, context);
        });
    }

    Ctx forwardTrain(Kernels k, float[] x, int[] mask, int batch, int seq, float[] context, TrainMode mode, int site) {
        float[] qkv = project(k, x, batch * seq, Arena.floats(batch * seq * 3 * heads * headDim));
        float[] maskAdd = additiveMask(mask, batch * seq);
        float[] probs = Arena.floats(batch * heads * seq * seq);
        Parallel.forEach(batch * heads, bh -> probabilities(k, qkv, maskAdd, bh / heads, bh % heads, seq, probs, bh * seq * seq));
        if (!mode.drops(dropout)) {
            Parallel.forEach(batch * heads, bh -> context(k, qkv, probs, bh * seq * seq, bh / heads, bh % heads, seq, context));
            return new Ctx(x, qkv, probs, null, batch, seq);
        }
        // Backward needs the probabilities before dropout, so each head drops a copy in scratch
        // (its block of the mask is what dropping the whole tensor would give).
        boolean[] keep = Arena.bools(probs.length);
        Parallel.forEach(batch * heads, bh -> {
            int n = seq * seq, po = bh * n;
            float[] p = scratch(n);
            System.arraycopy(probs, po, p, 0, n);
            mode.dropRange(p, 0, n, dropout, site, keep, po);
            context(k, qkv, p, 0, bh / heads, bh % heads, seq, context);
        });
        return new Ctx(x, qkv, probs, keep, batch, seq);
    }

    /**
     * Backward: {@code dx} receives d loss / d x for {@code dContext}; parameter gradients accumulate
     * in {@code g}. Per (batch row, head), as GEMMs on strided views:
     * <pre>
     * dP' = dctx v^T;  dv = P'^T dctx;  dS = P * (dP - rowsum(P * dP)) / sqrt(d)
     * dq = dS k;  dk = dS^T q
     * </pre>
     */
    void backward(Kernels k, Ctx c, float[] dContext, float[] dx, Gradients g) {
        int hidden = heads * headDim, ld = 3 * hidden, seq = c.seq, rows = c.batch * seq;
        float[] dqkv = Arena.floats(rows * ld);
        float scale = (float) (1.0 / Math.sqrt(headDim));
        float keepScale = 1f / (1f - dropout);
        Parallel.forEach(c.batch * heads, bh -> {
            int b = bh / heads, h = bh % heads, po = bh * seq * seq;
            int row0 = b * seq * ld, q0 = row0 + h * headDim, k0 = q0 + hidden, v0 = q0 + 2 * hidden;
            int ctx0 = b * seq * hidden + h * headDim;
            float[] dp = scratch(2 * seq * seq);
            int pd = seq * seq;
            // P' (the dropped probabilities) into the second half of the scratch.
            for (int i = 0; i < seq * seq; i++) {
                float pr = c.probs[po + i];
                dp[pd + i] = c.keep == null ? pr : (c.keep[po + i] ? pr * keepScale : 0f);
            }
            k.gemm(seq, headDim, seq, dp, pd, 1, seq, dContext, ctx0, hidden, 1, dqkv, v0, ld, false);
            k.gemm(seq, seq, headDim, dContext, ctx0, hidden, 1, c.qkv, v0, 1, ld, dp, 0, seq, false);
            for (int s = 0; s < seq; s++) {
                int o = s * seq;
                double dot = 0;
                for (int t = 0; t < seq; t++) {
                    float d = dp[o + t];
                    if (c.keep != null) d = c.keep[po + o + t] ? d * keepScale : 0f;
                    dp[o + t] = d;
                    dot += c.probs[po + o + t] * d;
                }
                for (int t = 0; t < seq; t++) dp[o + t] = c.probs[po + o + t] * (dp[o + t] - (float) dot) * scale;
            }
            k.gemm(seq, headDim, seq, dp, 0, seq, 1, c.qkv, k0, ld, 1, dqkv, q0, ld, false);
            k.gemm(seq, headDim, seq, dp, 0, 1, seq, c.qkv, q0, ld, 1, dqkv, k0, ld, false);
        });
        query.backward(k, prefix + "query", c.x, dqkv, 0, ld, rows, dx, false, g);
        key.backward(k, prefix + "key", c.x, dqkv, hidden, ld, rows, dx, true, g);
        value.backward(k, prefix + "value", c.x, dqkv, 2 * hidden, ld, rows, dx, true, g);
    }
}
