package dev.bertj.cpu;

import dev.bertj.backend.LayerOps.AttentionShape;

/**
 * The CPU's attention: per (batch row, head), two GEMMs on strided views of the q|k|v rows with the
 * masked softmax between them, heads spread over the worker pool. The math is in
 * {@code dev.bertj.model.BertSelfAttention}'s comment.
 */
final class CpuAttention {
    private final Kernels k;

    CpuAttention(Kernels k) {
        this.k = k;
    }

    /** Per-thread scratch for one head's scores or probabilities. */
    private static final ThreadLocal<float[]> SCORES = ThreadLocal.withInitial(() -> new float[0]);

    /** This thread's scratch of at least {@code n} floats (one head's scores; grows, never shrinks). */
    private static float[] scratch(int n) {
        float[] p = SCORES.get();
        if (p.length < n) SCORES.set(p = new float[n]);
        return p;
    }

    /** HF's additive padding mask: 0 where attended, float32.min where padded (exp underflows to exactly 0). */
    static float[] additiveMask(int[] mask, int n) {
        if (mask == null) return null;
        float[] m = new float[n];
        for (int i = 0; i < n; i++) m[i] = mask[i] == 0 ? -Float.MAX_VALUE : 0f;
        return m;
    }

    /** {@code scores = q_h k_h^T}, then the masked, scaled softmax, for one (batch row, head) into {@code p[po...]}. */
    private void probabilities(AttentionShape s, float[] qkv, float[] maskAdd, int b, int h, float[] p, int po) {
        int hidden = s.hidden(), ld = 3 * hidden, seq = s.seq(), d = s.headDim(), row0 = b * seq * ld;
        k.gemm(seq, seq, d, qkv, row0 + h * d, ld, 1, qkv, row0 + hidden + h * d, 1, ld, p, po, seq, false);
        float scale = (float) (1.0 / Math.sqrt(d));
        for (int t = 0; t < seq; t++) k.softmax(p, po + t * seq, seq, scale, maskAdd, b * seq);
    }

    /** {@code context_h = P v_h}: [S, S] x [S, d] into the head's columns of {@code context}. */
    private void context(AttentionShape s, float[] qkv, float[] p, int po, int b, int h, float[] context) {
        int hidden = s.hidden(), ld = 3 * hidden, seq = s.seq(), d = s.headDim();
        k.gemm(seq, d, seq, p, po, seq, 1, qkv, b * seq * ld + 2 * hidden + h * d, ld, 1,
                context, b * seq * hidden + h * d, hidden, false);
    }

    void forward(AttentionShape s, float[] qkv, int[] mask, float[] context, float[] probs, float p, long seed, long site, boolean[] keep) {
        float[] maskAdd = additiveMask(mask, s.batch() * s.seq());
        int heads = s.heads(), n = s.seq() * s.seq();
        if (p <= 0f) {
            Parallel.forEach(s.batch() * heads, bh -> {
                int b = bh / heads, h = bh % heads;
                float[] pr = probs != null ? probs : scratch(n);
                int po = probs != null ? bh * n : 0;
                probabilities(s, qkv, maskAdd, b, h, pr, po);
                context(s, qkv, pr, po, b, h, context);
            });
            return;
        }
        // Backward needs the probabilities before dropout, so each head drops a copy in scratch (its
        // block of the mask is what dropping the whole [B, heads, S, S] tensor would give).
        Parallel.forEach(s.batch() * heads, bh -> {
            int b = bh / heads, h = bh % heads, po = bh * n;
            probabilities(s, qkv, maskAdd, b, h, probs, po);
            float[] pr = scratch(n);
            System.arraycopy(probs, po, pr, 0, n);
            CpuDropout.forwardRange(k, pr, 0, n, p, seed, site, keep, po);
            context(s, qkv, pr, 0, b, h, context);
        });
    }

    /**
     * Padding-free attention (see {@code LayerOps.attentionPacked}): per (sequence, head), the same two
     * GEMMs and row softmax on the sequence's own rows, so a text of length L costs L^2, not S^2, and
     * needs no mask. (Not blocked by query rows: the GEMM packs K^T and V on each call, which for a head
     * of 32 costs as much as a 64-row block's products.) Longest sequences first, so the short tasks fill
     * the cores at the end.
     */
    void forwardPacked(int heads, int headDim, int[] offsets, float[] qkv, float[] context) {
        int batch = offsets.length - 1, hidden = heads * headDim, ld = 3 * hidden;
        float scale = (float) (1.0 / Math.sqrt(headDim));
        int[] order = byLengthDescending(offsets);
        Parallel.forEach(batch * heads, t -> {
            int b = order[t / heads], h = t % heads, r0 = offsets[b], len = offsets[b + 1] - r0, c0 = r0 * ld + h * headDim;
            float[] p = scratch(len * len);
            // scores = q_h k_h^T;  P = softmax(scores / sqrt(d)) per row;  context_h = P v_h
            k.gemm(len, len, headDim, qkv, c0, ld, 1, qkv, c0 + hidden, 1, ld, p, 0, len, false);
            for (int i = 0; i < len; i++) k.softmax(p, i * len, len, scale, null, 0);
            k.gemm(len, headDim, len, p, 0, len, 1, qkv, c0 + 2 * hidden, ld, 1, context, r0 * hidden + h * headDim, hidden, false);
        });
    }

    /** Sequence indices, longest first (ties in index order). */
    static int[] byLengthDescending(int[] offsets) {
        int batch = offsets.length - 1;
        long[] keyed = new long[batch];
        // (length, index) in one long, negated to sort descending by length and ascending by index.
        for (int b = 0; b < batch; b++) keyed[b] = -(((long) (offsets[b + 1] - offsets[b]) << 32) | (0xFFFFFFFFL - b));
        java.util.Arrays.sort(keyed);
        int[] order = new int[batch];
        for (int i = 0; i < batch; i++) order[i] = (int) (0xFFFFFFFFL - ((-keyed[i]) & 0xFFFFFFFFL));
        return order;
    }

    /**
     * Per (batch row, head), as GEMMs on strided views:
     * {@code dP' = dctx v^T; dv = P'^T dctx; dS = P * (dP - rowsum(P * dP)) / sqrt(d); dq = dS k; dk = dS^T q}.
     */
    void backward(AttentionShape s, float[] qkv, float[] probs, boolean[] keep, float p, float[] dContext, float[] dqkv) {
        int heads = s.heads(), headDim = s.headDim(), hidden = s.hidden(), ld = 3 * hidden, seq = s.seq();
        float scale = (float) (1.0 / Math.sqrt(headDim));
        float keepScale = 1f / (1f - p);
        Parallel.forEach(s.batch() * heads, bh -> {
            int b = bh / heads, h = bh % heads, po = bh * seq * seq;
            int row0 = b * seq * ld, q0 = row0 + h * headDim, k0 = q0 + hidden, v0 = q0 + 2 * hidden;
            int ctx0 = b * seq * hidden + h * headDim;
            float[] dp = scratch(2 * seq * seq);
            int pd = seq * seq;
            // P' (the dropped probabilities) into the second half of the scratch.
            for (int i = 0; i < seq * seq; i++) {
                float pr = probs[po + i];
                dp[pd + i] = keep == null ? pr : (keep[po + i] ? pr * keepScale : 0f);
            }
            k.gemm(seq, headDim, seq, dp, pd, 1, seq, dContext, ctx0, hidden, 1, dqkv, v0, ld, false);
            k.gemm(seq, seq, headDim, dContext, ctx0, hidden, 1, qkv, v0, 1, ld, dp, 0, seq, false);
            for (int t = 0; t < seq; t++) {
                int o = t * seq;
                double dot = 0;
                for (int u = 0; u < seq; u++) {
                    float d = dp[o + u];
                    if (keep != null) d = keep[po + o + u] ? d * keepScale : 0f;
                    dp[o + u] = d;
                    dot += probs[po + o + u] * d;
                }
                for (int u = 0; u < seq; u++) dp[o + u] = probs[po + o + u] * (dp[o + u] - (float) dot) * scale;
            }
            k.gemm(seq, headDim, seq, dp, 0, seq, 1, qkv, k0, ld, 1, dqkv, q0, ld, false);
            k.gemm(seq, headDim, seq, dp, 0, 1, seq, qkv, q0, ld, 1, dqkv, k0, ld, false);
        });
    }
}
