package dev.bertj.cpu;

import dev.bertj.backend.LayerOps.AttentionShape;

/**
 * The CPU's attention: per (sequence, head), two GEMMs on strided views of the q|k|v rows with the
 * softmax between them, heads spread over the worker pool. The math is in
 * {@code dev.bertj.model.BertSelfAttention}'s comment.
 *
 * <p>A padded batch and a packed one ({@code offsets}, padding-free) run the same per-head code: a
 * sequence is its first row {@code r0} and length {@code len} (the padded batch's rows are
 * {@code b * S} and {@code S}, with HF's mask; the packed one's {@code offsets[b]} and its true length,
 * with none). In training the probabilities keep the padded layout {@code [B, heads, S, S]} (row
 * stride S) in both, so dropout draws the same mask element for the same (sequence, head, query, key)
 * whether the batch was packed or not.
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

    /** Where one (sequence, head) lies: first row, length, and where its probability block starts (row stride S). */
    private record Head(int r0, int len, int h, int po) { }

    /** Head {@code h} of sequence {@code b}, padded ({@code offsets} null) or packed, probabilities in [B, heads, S, S]. */
    private static Head head(int[] offsets, int seq, int heads, int b, int h) {
        int po = (b * heads + h) * seq * seq;
        return offsets == null ? new Head(b * seq, seq, h, po) : new Head(offsets[b], offsets[b + 1] - offsets[b], h, po);
    }

    /** {@code P = softmax(q_h k_h^T / sqrt(d) + mask)} for one head into {@code p[po...]} (row stride {@code ldp}). */
    private void probabilities(int hidden, int d, Head x, float[] qkv, float[] maskAdd, float[] p, int po, int ldp) {
        int ld = 3 * hidden, c0 = x.r0 * ld + x.h * d;
        k.gemm(x.len, x.len, d, qkv, c0, ld, 1, qkv, c0 + hidden, 1, ld, p, po, ldp, false);
        float scale = (float) (1.0 / Math.sqrt(d));
        for (int t = 0; t < x.len; t++) k.softmax(p, po + t * ldp, x.len, scale, maskAdd, x.r0);
    }

    /** {@code context_h = P v_h}: [len, len] x [len, d] into the head's columns of {@code context}. */
    private void context(int hidden, int d, Head x, float[] qkv, float[] p, int po, int ldp, float[] context) {
        int ld = 3 * hidden;
        k.gemm(x.len, d, x.len, p, po, ldp, 1, qkv, x.r0 * ld + 2 * hidden + x.h * d, ld, 1,
                context, x.r0 * hidden + x.h * d, hidden, false);
    }

    /** Padded attention with HF's mask (see {@code LayerOps.attention}). */
    void forward(AttentionShape s, float[] qkv, int[] mask, float[] context, float[] probs, float p, long seed, long site, boolean[] keep) {
        forward(s, null, qkv, additiveMask(mask, s.batch() * s.seq()), context, probs, p, seed, site, keep);
    }

    /** Training attention on packed rows (see {@code LayerOps.attentionPackedTrain}). */
    void forwardPacked(AttentionShape s, int[] offsets, float[] qkv, float[] context, float[] probs, float p, long seed, long site, boolean[] keep) {
        forward(s, offsets, qkv, null, context, probs, p, seed, site, keep);
    }

    private void forward(AttentionShape s, int[] offsets, float[] qkv, float[] maskAdd, float[] context, float[] probs, float p, long seed, long site,
                         boolean[] keep) {
        int heads = s.heads(), d = s.headDim(), hidden = s.hidden(), seq = s.seq();
        Parallel.forEach(s.batch() * heads, bh -> {
            Head x = head(offsets, seq, heads, bh / heads, bh % heads);
            if (probs == null) {
                float[] pr = scratch(x.len * x.len);
                probabilities(hidden, d, x, qkv, maskAdd, pr, 0, x.len);
                context(hidden, d, x, qkv, pr, 0, x.len, context);
                return;
            }
            probabilities(hidden, d, x, qkv, maskAdd, probs, x.po, seq);
            if (p <= 0f) {
                context(hidden, d, x, qkv, probs, x.po, seq, context);
                return;
            }
            // Backward needs the probabilities before dropout, so each head drops a copy in scratch, row by
            // row as elements [po + t * S, ...) of the site's mask: what dropping the whole tensor would give.
            float[] pr = scratch(x.len * x.len);
            for (int t = 0; t < x.len; t++) {
                System.arraycopy(probs, x.po + t * seq, pr, t * x.len, x.len);
                CpuDropout.forwardRange(k, pr, t * x.len, x.len, p, seed, site, keep, x.po + t * seq);
            }
            context(hidden, d, x, qkv, pr, 0, x.len, context);
        });
    }

    /**
     * Padding-free inference attention (see {@code LayerOps.attentionPacked}): per (sequence, head), the
     * same two GEMMs and row softmax on the sequence's own rows, so a text of length L costs L^2, not
     * S^2, and needs no mask. (Not blocked by query rows: the GEMM packs K^T and V on each call, which
     * for a head of 32 costs as much as a 64-row block's products.) Longest sequences first, so the
     * short tasks fill the cores at the end.
     */
    void forwardPacked(int heads, int headDim, int[] offsets, float[] qkv, float[] context) {
        int batch = offsets.length - 1, hidden = heads * headDim;
        int[] order = byLengthDescending(offsets);
        Parallel.forEach(batch * heads, t -> {
            Head x = head(offsets, 0, heads, order[t / heads], t % heads);
            float[] p = scratch(x.len * x.len);
            probabilities(hidden, headDim, x, qkv, null, p, 0, x.len);
            context(hidden, headDim, x, qkv, p, 0, x.len, context);
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

    /** Padded attention backward (see {@code LayerOps.attentionBackward}). */
    void backward(AttentionShape s, float[] qkv, float[] probs, boolean[] keep, float p, float[] dContext, float[] dqkv) {
        backward(s, null, qkv, probs, keep, p, dContext, dqkv);
    }

    /**
     * Per (sequence, head), as GEMMs on strided views, {@code offsets} null for a padded batch:
     * {@code dP' = dctx v^T; dv = P'^T dctx; dS = P * (dP - rowsum(P * dP)) / sqrt(d); dq = dS k; dk = dS^T q}.
     */
    void backward(AttentionShape s, int[] offsets, float[] qkv, float[] probs, boolean[] keep, float p, float[] dContext, float[] dqkv) {
        int heads = s.heads(), headDim = s.headDim(), hidden = s.hidden(), ld = 3 * hidden, seq = s.seq();
        float scale = (float) (1.0 / Math.sqrt(headDim));
        float keepScale = 1f / (1f - p);
        Parallel.forEach(s.batch() * heads, bh -> {
            Head x = head(offsets, seq, heads, bh / heads, bh % heads);
            int len = x.len, po = x.po;
            int q0 = x.r0 * ld + x.h * headDim, k0 = q0 + hidden, v0 = q0 + 2 * hidden, ctx0 = x.r0 * hidden + x.h * headDim;
            float[] dp = scratch(2 * len * len);
            int pd = len * len;
            // P' (the dropped probabilities) into the second half of the scratch.
            for (int t = 0; t < len; t++) {
                if (keep == null) System.arraycopy(probs, po + t * seq, dp, pd + t * len, len);
                else k.applyMask(probs, po + t * seq, dp, pd + t * len, len, keep, po + t * seq, keepScale);
            }
            k.gemm(len, headDim, len, dp, pd, 1, len, dContext, ctx0, hidden, 1, dqkv, v0, ld, false);
            k.gemm(len, len, headDim, dContext, ctx0, hidden, 1, qkv, v0, 1, ld, dp, 0, len, false);
            for (int t = 0; t < len; t++) k.softmaxBackward(probs, po + t * seq, dp, t * len, len, keep, po + t * seq, keepScale, scale);
            k.gemm(len, headDim, len, dp, 0, len, 1, qkv, k0, ld, 1, dqkv, q0, ld, false);
            k.gemm(len, headDim, len, dp, 0, 1, len, qkv, q0, ld, 1, dqkv, k0, ld, false);
        });
    }
}
