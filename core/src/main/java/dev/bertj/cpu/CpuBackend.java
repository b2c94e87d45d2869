package dev.bertj.cpu;

import dev.bertj.backend.Activation;
import dev.bertj.backend.AdamWStep;
import dev.bertj.backend.Arena;
import dev.bertj.backend.Backend;
import dev.bertj.backend.Buf;
import dev.bertj.backend.Device;
import dev.bertj.backend.LinearWeights;
import dev.bertj.backend.Mask;
import dev.bertj.backend.NormWeights;
import dev.bertj.tensor.Tensor;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * The CPU backend: {@link Backend}'s operations on host arrays ({@link HostBuf}) with one
 * {@link Kernels} implementation (the Vector API one by default, {@link ScalarKernels} as the
 * reference) for every operation, and the {@link Parallel} worker pool. Parameters are used in place.
 *
 * <p>Weights packed for the GEMM are cached per weight tensor, by identity ({@link Tensor} keeps
 * Object's equals), in weak maps: a dropped model's packed copies go with it.
 */
public final class CpuBackend implements Backend {
    private static final CpuBackend DEFAULT = new CpuBackend(Vectorization.kernels());
    /** Elements below which element-wise work runs on one thread. */
    private static final int PARALLEL_FROM = 1 << 15;
    /** Rows below which LayerNorm runs on one thread. */
    private static final int NORM_PARALLEL_FROM = 64;
    private final Kernels k;
    private final CpuAttention attention;
    private final Map<Tensor, Packed> packed = Collections.synchronizedMap(new WeakHashMap<>());
    private final Map<Tensor, Fused> fused = Collections.synchronizedMap(new WeakHashMap<>());
    private final Arena.Allocator allocator = new Arena.Allocator() {
        public Buf floats(int n) { return new HostBuf(new float[n]); }
        public Mask mask(int n) { return new HostMask(new boolean[n]); }
        public void free(Object o) { }
    };

    /** A CPU backend on {@code kernels}. */
    public CpuBackend(Kernels kernels) {
        this.k = kernels;
        this.attention = new CpuAttention(kernels);
    }

    /** The CPU backend on the fastest usable kernels. */
    public static CpuBackend get() {
        return DEFAULT;
    }

    /** The kernels every operation of this backend runs on. */
    public Kernels kernels() {
        return k;
    }

    private static float[] a(Buf b) {
        return HostBuf.of(b);
    }

    @Override public Device device() { return Device.cpu(); }
    @Override public String name() { return "cpu/" + k.name(); }

    // ---- memory ----

    @Override public Arena newArena() { return new Arena(allocator); }

    private Arena arena() {
        Arena a = Arena.active();
        return a != null && a.uses(allocator) ? a : null;
    }

    @Override
    public Buf floats(int n) {
        Arena a = arena();
        return a == null ? new HostBuf(new float[n]) : a.floats(n);
    }

    @Override
    public Buf zeros(int n) {
        Arena a = arena();
        if (a == null) return new HostBuf(new float[n]);
        Buf b = a.floats(n);
        Arrays.fill(a(b), 0f);
        return b;
    }

    @Override
    public Mask mask(int n) {
        Arena a = arena();
        return a == null ? new HostMask(new boolean[n]) : a.mask(n);
    }

    @Override
    public Buf upload(float[] host) {
        Buf b = floats(host.length);
        System.arraycopy(host, 0, a(b), 0, host.length);
        return b;
    }

    @Override
    public float[] download(Buf b, float[] host) {
        if (a(b) != host) System.arraycopy(a(b), 0, host, 0, host.length);
        return host;
    }

    @Override public void write(Buf b, float[] host) { System.arraycopy(host, 0, a(b), 0, host.length); }
    @Override public Buf resultBuffer(float[] host) { return new HostBuf(host); }
    @Override public float[] hostArray(Buf b) { return a(b); }
    @Override public Buf wrap(float[] host) { return new HostBuf(host); }
    @Override public Buf param(Tensor t) { return new HostBuf(t.data()); }
    @Override public void paramUpdated(Tensor t) { t.changed(); }

    /** Removes the packed copies now rather than when the weak maps next notice the keys are gone (a closed model's memory returns at once). */
    @Override
    public void forget(Iterable<Tensor> params) {
        for (Tensor t : params) {
            packed.remove(t);
            fused.remove(t);
        }
    }
    @Override public Buf gradient(int n) { return new HostBuf(new float[n]); }
    @Override public void zero(Buf x, int n) { Arrays.fill(a(x), 0, n, 0f); }
    @Override public void copy(Buf src, Buf dst, int n) { System.arraycopy(a(src), 0, a(dst), 0, n); }

    @Override
    public void copyRows(Buf src, int srcOff, int srcStride, Buf dst, int dstOff, int dstStride, int rows, int width, boolean accumulate) {
        float[] s = a(src), d = a(dst);
        for (int r = 0; r < rows; r++) {
            int so = srcOff + r * srcStride, o = dstOff + r * dstStride;
            if (accumulate) for (int i = 0; i < width; i++) d[o + i] += s[so + i];
            else System.arraycopy(s, so, d, o, width);
        }
    }

    // ---- dense layers ----

    /** A weight laid out for the GEMM, and the tensor version it was packed from. */
    private record Packed(int version, PackedWeight weight) { }

    /** The weight of {@code l} packed for the kernels, packed again in place when an optimizer step moved its version. */
    private PackedWeight packed(LinearWeights l) {
        Tensor w = l.weight();
        int v = w.version();
        Packed p = packed.get(w);
        if (p == null) {
            p = new Packed(v, k.pack(w.data(), l.out(), l.in()));
            packed.put(w, p);
        } else if (p.version != v) {
            k.repack(w.data(), p.weight);
            p = new Packed(v, p.weight);
            packed.put(w, p);
        }
        return p.weight;
    }

    @Override
    public void linear(Buf x, int rows, LinearWeights l, Buf y, Activation epilogue) {
        float[] bias = l.bias() == null ? null : l.bias().data();
        if (epilogue == Activation.GELU) {
            k.linearGelu(a(x), rows, packed(l), bias, a(y));
            return;
        }
        k.linear(a(x), rows, packed(l), bias, a(y));
        if (epilogue != null) activation(epilogue, y, rows * l.out());
    }

    /**
     * The parts' weights concatenated and packed once (keyed by the first part's weight), refilled in place
     * after an optimizer step. The unpacked concatenation is kept only once the weights have changed (a
     * training run repacks every step); an inference model does not hold that extra copy.
     */
    private record Fused(int version, PackedWeight weight, float[] bias, float[] concat) { }

    @Override
    public void linear(Buf x, int rows, List<? extends LinearWeights> parts, Buf y) {
        Tensor key = parts.get(0).weight();
        Fused c = fused.get(key);
        int version = 0, in = parts.get(0).in(), out = 0;
        for (LinearWeights l : parts) {
            version = 31 * (31 * version + l.weight().version()) + (l.bias() == null ? 0 : l.bias().version());
            out += l.out();
        }
        if (c == null || c.version != version) {
            float[] w = c != null && c.concat != null ? c.concat : new float[out * in], b = c != null ? c.bias : new float[out];
            int wo = 0, bo = 0;
            for (LinearWeights l : parts) {
                System.arraycopy(l.weight().data(), 0, w, wo, l.weight().size());
                if (l.bias() != null) System.arraycopy(l.bias().data(), 0, b, bo, l.out());
                else Arrays.fill(b, bo, bo + l.out(), 0f);
                wo += l.weight().size();
                bo += l.out();
            }
            PackedWeight pw;
            if (c != null) {
                k.repack(w, c.weight);
                pw = c.weight;
            } else {
                pw = k.pack(w, out, in);
            }
            c = new Fused(version, pw, b, c == null ? null : w);
            fused.put(key, c);
        }
        k.linear(a(x), rows, c.weight, c.bias, a(y));
    }

    @Override
    public void linearBackward(LinearWeights l, Buf xb, Buf dyb, int dyOff, int ldy, int rows, Buf dxb, boolean accumulateDx, Buf dWb, Buf dbb) {
        int in = l.in(), out = l.out();
        float[] x = a(xb), dy = a(dyb), dx = a(dxb), dW = a(dWb), db = a(dbb);
        if (dx != null) k.gemm(rows, in, out, dy, dyOff, ldy, 1, l.weight().data(), 0, in, 1, dx, 0, in, accumulateDx);
        k.gemm(out, in, rows, dy, dyOff, 1, ldy, x, 0, in, 1, dW, 0, in, true);
        // db += 1^T dy: column sums, in column slices over the pool (as a one-row GEMM it ran at a
        // quarter of a 4-row tile and cost ~1.5% of a training step).
        if (db != null) {
            Parallel.forSlices(out, 64, (i, from, to) -> k.addColumnSums(dy, dyOff + from, rows, to - from, ldy, db, from));
        }
    }

    @Override
    public void activation(Activation act, Buf x, int n) {
        float[] v = a(x);
        // BERT's exact GELU runs on the kernels, in parallel slices; the others on the reference formula.
        if (act == Activation.GELU) Parallel.forSlices(n, PARALLEL_FROM, (i, from, to) -> k.gelu(v, from, to - from));
        else for (int i = 0; i < n; i++) v[i] = (float) act.apply(v[i]);
    }

    @Override
    public void activationBackward(Activation act, Buf saved, Buf d, int n) {
        float[] s = a(saved), dv = a(d);
        if (act == Activation.GELU) Parallel.forSlices(n, PARALLEL_FROM, (i, from, to) -> k.geluBackward(s, dv, from, to - from));
        else if (act == Activation.RELU) for (int i = 0; i < n; i++) { if (s[i] <= 0f) dv[i] = 0f; }
        else if (act == Activation.TANH) for (int i = 0; i < n; i++) dv[i] *= 1 - s[i] * s[i];
        else for (int i = 0; i < n; i++) dv[i] = (float) (dv[i] * act.derivative(s[i]));
    }

    // ---- normalization, dropout, element-wise ----

    @Override
    public void layerNorm(Buf xb, Buf residual, int rows, NormWeights ln, Buf yb, Buf xhat, Buf rstd) {
        float[] x = a(xb), res = a(residual), y = a(yb), xh = a(xhat), rs = a(rstd), gamma = ln.weight().data(), beta = ln.bias().data();
        int h = ln.width();
        Parallel.forSlices(rows, NORM_PARALLEL_FROM, (c, from, to) -> k.layerNorm(x, res, from, to, h, gamma, beta, ln.eps(), y, xh, rs));
    }

    @Override
    public void layerNormBackward(NormWeights ln, Buf xhat, Buf rstd, Buf dyb, int rows, Buf dzb, Buf dGammaB, Buf dBetaB) {
        int h = ln.width();
        float[] xh = a(xhat), rs = a(rstd), dy = a(dyb), dz = a(dzb), gamma = ln.weight().data(), dGamma = a(dGammaB), dBeta = a(dBetaB);
        int chunks = Parallel.slices(rows, NORM_PARALLEL_FROM);
        // Each chunk sums its rows' dgamma and dbeta apart; adding the chunks in order keeps the
        // result independent of which thread ran what.
        float[][] dg = new float[chunks][h], db = new float[chunks][h];
        Parallel.forSlices(rows, NORM_PARALLEL_FROM, (c, from, to) -> k.layerNormBackward(xh, rs, dy, from, to, h, gamma, dz, dg[c], db[c]));
        for (int c = 0; c < chunks; c++) {
            for (int i = 0; i < h; i++) {
                dGamma[i] += dg[c][i];
                dBeta[i] += db[c][i];
            }
        }
    }

    @Override
    public void dropout(Buf x, int n, float p, long seed, long site, Mask keep) {
        CpuDropout.forward(k, a(x), n, p, seed, site, HostMask.of(keep));
    }

    @Override
    public void dropoutBackward(Buf d, int n, float p, Mask keep) {
        CpuDropout.backward(k, a(d), n, p, HostMask.of(keep));
    }

    @Override
    public void add(Buf x, Buf y, int n) {
        float[] av = a(x), bv = a(y);
        // Backward's residual sums are [B*S, H]: slices on every core.
        Parallel.forSlices(n, PARALLEL_FROM, (c, from, to) -> {
            for (int i = from; i < to; i++) av[i] += bv[i];
        });
    }

    @Override
    public void scale(Buf x, int n, float s) {
        float[] v = a(x);
        for (int i = 0; i < n; i++) v[i] *= s;
    }

    @Override
    public void divide(Buf x, int n, float d) {
        float[] v = a(x);
        for (int i = 0; i < n; i++) v[i] /= d;
    }

    // ---- BERT-specific ----

    @Override
    public void embeddings(int[] ids, int[] types, int batch, int seq, Tensor word, Tensor position, Tensor type, Buf out) {
        float[] wd = word.data(), pd = position.data(), td = type.data(), o = a(out);
        int h = word.dim(1);
        // Rows are independent: slices on every core (a 32 x 512 batch is 6M sums).
        Parallel.forSlices(batch * seq, NORM_PARALLEL_FROM, (c, from, to) -> {
            for (int r = from; r < to; r++) {
                int id = ids[r], s = r % seq, t = types == null ? 0 : types[r], off = r * h;
                for (int i = 0; i < h; i++) o[off + i] = wd[id * h + i] + pd[s * h + i] + td[t * h + i];
            }
        });
    }

    @Override
    public void embeddingsBackward(int[] ids, int[] types, int batch, int seq, int h, Buf dOut, Buf dWord, Buf dPosition, Buf dType) {
        float[] d = a(dOut), dw = a(dWord), dp = a(dPosition), dt = a(dType);
        for (int r = 0; r < batch * seq; r++) {
            int id = ids[r], s = r % seq, t = types == null ? 0 : types[r];
            for (int i = 0; i < h; i++) {
                float v = d[r * h + i];
                dw[id * h + i] += v;
                dp[s * h + i] += v;
                dt[t * h + i] += v;
            }
        }
    }

    @Override
    public void attention(AttentionShape s, Buf qkv, int[] mask, Buf context, Buf probs, float p, long seed, long site, Mask keep) {
        attention.forward(s, a(qkv), mask, a(context), a(probs), p, seed, site, HostMask.of(keep));
    }

    @Override
    public void attentionPacked(int heads, int headDim, int[] offsets, Buf qkv, Buf context) {
        attention.forwardPacked(heads, headDim, offsets, a(qkv), a(context));
    }

    @Override
    public void attentionBackward(AttentionShape s, Buf qkv, Buf probs, Mask keep, float p, Buf dContext, Buf dqkv) {
        attention.backward(s, a(qkv), a(probs), HostMask.of(keep), p, a(dContext), a(dqkv));
    }

    @Override
    public void attentionPackedTrain(AttentionShape s, int[] offsets, Buf qkv, Buf context, Buf probs, float p, long seed, long site, Mask keep) {
        attention.forwardPacked(s, offsets, a(qkv), a(context), a(probs), p, seed, site, HostMask.of(keep));
    }

    @Override
    public void attentionPackedBackward(AttentionShape s, int[] offsets, Buf qkv, Buf probs, Mask keep, float p, Buf dContext, Buf dqkv) {
        attention.backward(s, offsets, a(qkv), a(probs), HostMask.of(keep), p, a(dContext), a(dqkv));
    }

    @Override
    public void meanPool(Buf hidden, int[] mask, int batch, int seq, int h, Buf out) {
        CpuReductions.meanPool(a(hidden), mask, batch, seq, h, a(out));
    }

    @Override
    public void meanPoolBackward(Buf dOut, int[] mask, int batch, int seq, int h, Buf dHidden) {
        CpuReductions.meanPoolBackward(a(dOut), mask, batch, seq, h, a(dHidden));
    }

    @Override
    public float crossEntropy(Buf logits, int rows, int classes, int[] labels, Buf dLogits) {
        return CpuReductions.crossEntropy(a(logits), rows, classes, labels, a(dLogits));
    }

    // ---- optimizer ----

    @Override
    public double sumSquares(Buf x, int n) {
        float[] v = a(x);
        double s = 0;
        for (int i = 0; i < n; i++) s += (double) v[i] * v[i];
        return s;
    }

    @Override
    public void adamw(Buf param, Buf grad, Buf mBuf, Buf vBuf, int n, AdamWStep st) {
        adamw(List.of(new AdamWUpdate(param, grad, mBuf, vBuf, n, st)));
    }

    /**
     * All parameters in one pass: slices of the concatenated elements (a slice may span several small
     * tensors, and the word embeddings' many slices spread over every core), one dispatch per step.
     */
    @Override
    public void adamw(List<AdamWUpdate> updates) {
        long[] start = new long[updates.size() + 1];
        for (int i = 0; i < updates.size(); i++) start[i + 1] = start[i] + updates.get(i).n();
        if (start[updates.size()] > Integer.MAX_VALUE) {
            for (AdamWUpdate u : updates) adamw(List.of(u));
            return;
        }
        Parallel.forSlices((int) start[updates.size()], 1 << 16, (sl, from, to) -> {
            int i = java.util.Arrays.binarySearch(start, from);
            for (i = i >= 0 ? i : -i - 2; i < updates.size() && start[i] < to; i++) {
                AdamWUpdate u = updates.get(i);
                int lo = (int) Math.max(0, from - start[i]), hi = (int) Math.min(u.n(), to - start[i]);
                if (lo < hi) adamwRange(a(u.p()), a(u.g()), a(u.m()), a(u.v()), lo, hi, u.step());
            }
        });
    }

    private static void adamwRange(float[] p, float[] g, float[] m, float[] v, int from, int to, AdamWStep st) {
        float decay = st.decay(), b1 = st.beta1(), omb1 = st.oneMinusBeta1(), b2 = st.beta2(), omb2 = st.oneMinusBeta2();
        float negStepSize = st.negStepSize(), bc2Sqrt = st.bc2Sqrt(), eps = st.eps();
        for (int i = from; i < to; i++) {
            float gi = g[i];
            float pi = p[i] * decay;
            // ATen's add(alpha) and addcmul compile to fused multiply-adds (checked against
            // PyTorch 1.13 on both its scalar and AVX2 paths); addcdiv's divide cannot fuse.
            float mi = Math.fma(gi, omb1, m[i] * b1);
            float vi = Math.fma(omb2 * gi, gi, v[i] * b2);
            float denom = (float) Math.sqrt(vi) / bc2Sqrt + eps;
            m[i] = mi;
            v[i] = vi;
            p[i] = pi + negStepSize * mi / denom;
        }
    }

    @Override
    public void close() { }
}
