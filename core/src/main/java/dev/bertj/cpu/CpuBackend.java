package dev.bertj.cpu;

import dev.bertj.backend.Arena;
import dev.bertj.backend.Backend;
import dev.bertj.backend.Buf;
import dev.bertj.backend.Device;
import dev.bertj.backend.Mask;
import dev.bertj.nn.Activations;
import dev.bertj.nn.CrossEntropy;
import dev.bertj.nn.Dropout;
import dev.bertj.nn.FusedLinear;
import dev.bertj.nn.LayerNorm;
import dev.bertj.nn.Linear;
import dev.bertj.tensor.Tensor;

import java.util.Arrays;

/**
 * The CPU backend: {@link Backend}'s operations on host arrays ({@link HostBuf}) with a
 * {@link Kernels} implementation (the Vector API one by default, {@link ScalarKernels} as the
 * reference) and the {@link Parallel} worker pool. Parameters are used in place.
 */
public final class CpuBackend implements Backend {
    private static final CpuBackend DEFAULT = new CpuBackend(Vectorization.kernels());
    /** Elements below which element-wise work runs on one thread. */
    private static final int PARALLEL_FROM = 1 << 15;
    private final Kernels k;
    private final CpuAttention attention;
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

    private static float[] a(Buf b) {
        return HostBuf.of(b);
    }

    @Override public Device device() { return Device.cpu(); }
    @Override public String name() { return "cpu/" + k.name(); }
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
    @Override public Buf param(Tensor t) { return new HostBuf(t.data()); }
    @Override public void paramUpdated(Tensor t) { t.changed(); }
    @Override public Buf gradient(int n) { return new HostBuf(new float[n]); }
    @Override public void zero(Buf x, int n) { Arrays.fill(a(x), 0, n, 0f); }

    @Override
    public void linear(Buf x, int rows, Linear l, Buf y, boolean gelu) {
        if (gelu) k.linearGelu(a(x), rows, l.packed(k), l.bias() == null ? null : l.bias().data(), a(y));
        else l.forward(k, a(x), rows, a(y));
    }

    /** The parts' weights concatenated and packed once, refilled in place after an optimizer step. */
    private record Fused(Kernels kernels, int version, PackedWeight weight, float[] bias, float[] concat) { }

    @Override
    public void linear(Buf x, int rows, FusedLinear f, Buf y) {
        Fused c = f.cache() instanceof Fused fc && fc.kernels == k ? fc : null;
        int version = f.version();
        if (c == null || c.version != version) {
            float[] w = c != null ? c.concat : new float[f.out() * f.in()], b = c != null ? c.bias : new float[f.out()];
            int wo = 0, bo = 0;
            for (Linear l : f.parts()) {
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
                pw = k.pack(w, f.out(), f.in());
            }
            c = new Fused(k, version, pw, b, w);
            f.cache(c);
        }
        k.linear(a(x), rows, c.weight, c.bias, a(y));
    }

    @Override
    public void linearBackward(Linear l, Buf x, Buf dy, int dyOff, int ldy, int rows, Buf dx, boolean accumulateDx, Buf dW, Buf db) {
        l.backward(k, a(x), a(dy), dyOff, ldy, rows, a(dx), accumulateDx, a(dW), a(db));
    }

    @Override
    public void activation(String act, Buf x, int n) {
        float[] v = a(x);
        // BERT's exact GELU runs on the kernels, in parallel slices; other activations on Activations.
        if (act.equals("gelu")) Parallel.forSlices(n, PARALLEL_FROM, (i, from, to) -> k.gelu(v, from, to - from));
        else Activations.apply(act, v, n);
    }

    @Override
    public void activationBackward(String act, Buf pre, Buf d, int n) {
        float[] p = a(pre), dv = a(d);
        if (act.equals("gelu")) Parallel.forSlices(n, PARALLEL_FROM, (i, from, to) -> k.geluBackward(p, dv, from, to - from));
        else Activations.backward(act, p, dv, n);
    }

    @Override
    public void reluBackward(Buf z, Buf d, int n) {
        float[] zv = a(z), dv = a(d);
        for (int i = 0; i < n; i++) if (zv[i] <= 0f) dv[i] = 0f;
    }

    @Override
    public void tanhBackward(Buf y, Buf d, int n) {
        float[] yv = a(y), dv = a(d);
        for (int i = 0; i < n; i++) dv[i] *= 1 - yv[i] * yv[i];
    }

    @Override
    public void layerNorm(Buf x, Buf residual, int rows, LayerNorm ln, Buf y, Buf xhat, Buf rstd) {
        if (xhat == null) ln.forward(a(x), a(residual), rows, a(y));
        else ln.forwardTrain(a(x), a(residual), rows, a(y), a(xhat), a(rstd));
    }

    @Override
    public void layerNormBackward(LayerNorm ln, Buf xhat, Buf rstd, Buf dy, int rows, Buf dz, Buf dGamma, Buf dBeta) {
        ln.backward(new LayerNorm.Ctx(a(xhat), a(rstd)), a(dy), rows, a(dz), a(dGamma), a(dBeta));
    }

    @Override
    public void dropout(Buf x, int n, float p, long seed, long site, Mask keep) {
        Dropout.forward(a(x), n, p, seed, site, HostMask.of(keep));
    }

    @Override
    public void dropoutBackward(Buf d, int n, float p, Mask keep) {
        Dropout.backward(a(d), n, p, HostMask.of(keep));
    }

    @Override
    public void add(Buf x, Buf y, int n) {
        float[] av = a(x), bv = a(y);
        for (int i = 0; i < n; i++) av[i] += bv[i];
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

    @Override
    public double sumSquares(Buf x, int n) {
        float[] v = a(x);
        double s = 0;
        for (int i = 0; i < n; i++) s += (double) v[i] * v[i];
        return s;
    }

    @Override
    public void copyRows(Buf src, int srcOff, int srcStride, Buf dst, int dstOff, int dstStride, int rows, int width, boolean accumulate) {
        float[] s = a(src), d = a(dst);
        for (int r = 0; r < rows; r++) {
            int so = srcOff + r * srcStride, o = dstOff + r * dstStride;
            if (accumulate) for (int i = 0; i < width; i++) d[o + i] += s[so + i];
            else System.arraycopy(s, so, d, o, width);
        }
    }

    @Override
    public void embeddings(int[] ids, int[] types, int batch, int seq, Tensor word, Tensor position, Tensor type, Buf out) {
        float[] wd = word.data(), pd = position.data(), td = type.data(), o = a(out);
        int h = word.dim(1);
        for (int r = 0; r < batch * seq; r++) {
            int id = ids[r], s = r % seq, t = types == null ? 0 : types[r], off = r * h;
            for (int i = 0; i < h; i++) o[off + i] = wd[id * h + i] + pd[s * h + i] + td[t * h + i];
        }
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
    public void attentionBackward(AttentionShape s, Buf qkv, Buf probs, Mask keep, float p, Buf dContext, Buf dqkv) {
        attention.backward(s, a(qkv), a(probs), HostMask.of(keep), p, a(dContext), a(dqkv));
    }

    @Override
    public void meanPool(Buf hidden, int[] mask, int batch, int seq, int h, Buf out) {
        float[] x = a(hidden), f = a(out);
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

    @Override
    public void meanPoolBackward(Buf dOut, int[] mask, int batch, int seq, int h, Buf dHidden) {
        float[] df = a(dOut), d = a(dHidden);
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

    @Override
    public float crossEntropy(Buf logits, int rows, int classes, int[] labels, Buf dLogits) {
        float loss = CrossEntropy.forward(a(logits), rows, classes, labels);
        if (dLogits != null) {
            float[] d = CrossEntropy.backward(a(logits), rows, classes, labels);
            System.arraycopy(d, 0, a(dLogits), 0, d.length);
        }
        return loss;
    }

    @Override
    public void adamw(Buf param, Buf grad, Buf mBuf, Buf vBuf, int n, float decay, float b1, float oneMinusB1, float b2,
                      float oneMinusB2, float negStepSize, float bc2Sqrt, float eps) {
        float[] p = a(param), g = a(grad), m = a(mBuf), v = a(vBuf);
        // Element-wise, so slices of a large tensor (the word embeddings) run on every core.
        Parallel.forSlices(n, 1 << 16, (sl, from, to) -> {
            for (int i = from; i < to; i++) {
                float gi = g[i];
                float pi = p[i] * decay;
                // ATen's add(alpha) and addcmul compile to fused multiply-adds (checked against
                // PyTorch 1.13 on both its scalar and AVX2 paths); addcdiv's divide cannot fuse.
                float mi = Math.fma(gi, oneMinusB1, m[i] * b1);
                float vi = Math.fma(oneMinusB2 * gi, gi, v[i] * b2);
                float denom = (float) Math.sqrt(vi) / bc2Sqrt + eps;
                m[i] = mi;
                v[i] = vi;
                p[i] = pi + negStepSize * mi / denom;
            }
        });
    }

    @Override
    public void close() { }
}
