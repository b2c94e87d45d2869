package dev.bertj.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API kernels at the platform's preferred width. Only loaded after {@link Vectorization}
 * has checked that {@code jdk.incubator.vector} is present, so bertj runs without it.
 */
final class VectorKernels implements Kernels {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    /**
     * Sum of the lanes in lane order. {@code reduceLanes(ADD)} may add in a different order once
     * C2 compiles it than in the interpreter, which made results drift by an ulp as the JIT warmed
     * up; a fixed order keeps every run bit-identical.
     */
    private static float sum(FloatVector v) {
        float s = 0f;
        for (int i = 0; i < v.length(); i++) s += v.lane(i);
        return s;
    }

    /**
     * {@code e^x} for {@code x <= 88} (softmax's shifted scores, GELU's Gaussian), built from adds,
     * multiplies and FMAs only: Cephes' expf (x = n ln2 + r, |r| <= ln2/2, a degree-7 polynomial in r,
     * then 2^n placed in the exponent bits), within 2 ulp of {@code Math.exp}. Not
     * {@code lanewise(EXP)}: C2 compiles that to SVML while the interpreter calls Math.exp per lane,
     * and the two differ in the last bit, so a training run's weights depended on how warm the JIT
     * was (FailureIsolationModelTrainerTest found it). These operations round the same either way.
     * Below -87.3 (under Float.MIN_NORMAL) the result is 0, so masked scores weigh exactly nothing.
     */
    static FloatVector exp(FloatVector x) {
        FloatVector v = x.max(-87.33654f).min(88f); // n <= 127: 2^n stays finite
        // n = round(x / ln2), by the 1.5 * 2^23 trick: adding it leaves n in the low mantissa bits.
        FloatVector t = v.mul(1.442695f).add(12582912f);
        FloatVector n = t.sub(12582912f);
        FloatVector r = n.fma(FloatVector.broadcast(F, -0.693359375f), v).add(n.mul(2.12194440e-4f)); // v - n ln2, ln2 in two parts
        FloatVector p = r.fma(1.9875691500e-4f, 1.3981999507e-3f);
        p = p.fma(r, FloatVector.broadcast(F, 8.3334519073e-3f));
        p = p.fma(r, FloatVector.broadcast(F, 4.1665795894e-2f));
        p = p.fma(r, FloatVector.broadcast(F, 1.6666665459e-1f));
        p = p.fma(r, FloatVector.broadcast(F, 5.0000001201e-1f));
        p = p.mul(r.mul(r)).add(r).add(1f);
        // 2^n: n + 127 in the exponent field; t's low bits hold n + 0x400000 (the trick's offset).
        IntVector bits = t.reinterpretAsInts().sub(0x4B400000 - 127).lanewise(VectorOperators.LSHL, 23);
        FloatVector e = p.mul(bits.reinterpretAsFloats());
        return e.blend(0f, x.lt(-87.33654f));
    }

    @Override
    public String name() {
        return "vector-" + F.vectorBitSize();
    }

    @Override
    public void linear(float[] x, int rows, int in, float[] w, float[] bias, int out, float[] y) {
        VectorGemm.gemm(rows, out, in, x, 0, in, 1, w, 0, 1, in, y, 0, out, bias, false);
    }

    @Override
    public PackedWeight pack(float[] w, int out, int in) {
        float[] p = new float[VectorGemm.packedSize(in, out)];
        VectorGemm.packB(w, 0, 1, in, in, out, p);
        return new PackedWeight(p, in, out);
    }

    @Override
    public void repack(float[] w, PackedWeight into) {
        VectorGemm.packB(w, 0, 1, into.in, into.in, into.out, into.data);
    }

    @Override
    public void linear(float[] x, int rows, PackedWeight w, float[] bias, float[] y) {
        VectorGemm.gemmPacked(rows, w.out, w.in, x, 0, w.in, 1, w.data, y, 0, w.out, bias, false, false);
    }

    @Override
    public void linearGelu(float[] x, int rows, PackedWeight w, float[] bias, float[] y) {
        VectorGemm.gemmPacked(rows, w.out, w.in, x, 0, w.in, 1, w.data, y, 0, w.out, bias, false, true);
    }

    @Override
    public void gemm(int m, int n, int k, float[] a, int aOff, int ars, int acs, float[] b, int bOff, int brs, int bcs,
                     float[] c, int cOff, int ldc, boolean accumulate) {
        VectorGemm.gemm(m, n, k, a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, ldc, null, accumulate);
    }

    @Override
    public void addColumnSums(float[] x, int off, int rows, int cols, int ld, float[] out, int outOff) {
        int L = F.length(), j = 0;
        // Four vectors of columns at a time, down all rows: each lane is the scalar loop's sum, in its order.
        for (; j + 4 * L <= cols; j += 4 * L) {
            FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
            for (int r = 0, o = off + j; r < rows; r++, o += ld) {
                s0 = s0.add(FloatVector.fromArray(F, x, o));
                s1 = s1.add(FloatVector.fromArray(F, x, o + L));
                s2 = s2.add(FloatVector.fromArray(F, x, o + 2 * L));
                s3 = s3.add(FloatVector.fromArray(F, x, o + 3 * L));
            }
            int d = outOff + j;
            s0.add(FloatVector.fromArray(F, out, d)).intoArray(out, d);
            s1.add(FloatVector.fromArray(F, out, d + L)).intoArray(out, d + L);
            s2.add(FloatVector.fromArray(F, out, d + 2 * L)).intoArray(out, d + 2 * L);
            s3.add(FloatVector.fromArray(F, out, d + 3 * L)).intoArray(out, d + 3 * L);
        }
        for (; j + L <= cols; j += L) {
            FloatVector s0 = FloatVector.zero(F);
            for (int r = 0, o = off + j; r < rows; r++, o += ld) s0 = s0.add(FloatVector.fromArray(F, x, o));
            s0.add(FloatVector.fromArray(F, out, outOff + j)).intoArray(out, outOff + j);
        }
        if (j < cols) ScalarKernels.INSTANCE.addColumnSums(x, off + j, rows, cols - j, ld, out, outOff + j);
    }

    @Override
    public void softmax(float[] x, int off, int n, float scale, float[] mask, int maskOff) {
        // The partial last vector runs scalar: a masked tail (VectorMask from indexInRange) measured ~6x
        // slower per 37-long row on AVX2 (256-bit, where masked loads are not native).
        int w = F.length(), bound = F.loopBound(n), i = 0;
        FloatVector vs = FloatVector.broadcast(F, scale), vmax = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (; i < bound; i += w) {
            FloatVector z = FloatVector.fromArray(F, x, off + i).mul(vs);
            if (mask != null) z = z.add(FloatVector.fromArray(F, mask, maskOff + i));
            z.intoArray(x, off + i);
            vmax = vmax.max(z);
        }
        float max = vmax.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) {
            float z = x[off + i] * scale + (mask == null ? 0f : mask[maskOff + i]);
            x[off + i] = z;
            max = Math.max(max, z);
        }
        FloatVector vm = FloatVector.broadcast(F, max), vsum = FloatVector.zero(F);
        for (i = 0; i < bound; i += w) {
            FloatVector e = exp(FloatVector.fromArray(F, x, off + i).sub(vm));
            e.intoArray(x, off + i);
            vsum = vsum.add(e);
        }
        float s = sum(vsum);
        for (; i < n; i++) {
            x[off + i] = (float) Math.exp(x[off + i] - max);
            s += x[off + i];
        }
        FloatVector inv = FloatVector.broadcast(F, 1f / s);
        for (i = 0; i < bound; i += w) FloatVector.fromArray(F, x, off + i).mul(inv).intoArray(x, off + i);
        for (; i < n; i++) x[off + i] *= 1f / s;
    }

    private static final VectorSpecies<Long> LONGS = VectorSpecies.of(long.class, VectorShape.forBitSize(F.vectorBitSize()));
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;
    /** Lane l holds l * golden (wrapping), so {@code base + (i + l) * golden} is one add per vector. */
    private static final LongVector LANE_GOLDEN = LongVector.broadcast(LONGS, GOLDEN).mul(LongVector.zero(LONGS).addIndex(1));

    /**
     * {@link dev.bertj.backend.DropoutRng}'s SplitMix64 hash on 64-bit lanes (4 on AVX2, 8 on AVX-512), in
     * place of one scalar hash per element (measured on AVX2: 2.2 vs 10 ns per element). {@code u >= p} with {@code u = top24 / 2^24}
     * is the integer test {@code top24 >= ceil(p 2^24)} (both sides exact), so the flags are the same bits.
     */
    @Override
    public void dropout(float[] x, int xOff, int n, float p, long base, boolean[] keep, int first) {
        if (F.length() != 2 * LONGS.length() || first < 0) {
            ScalarKernels.INSTANCE.dropout(x, xOff, n, p, base, keep, first);
            return;
        }
        float scale = 1f / (1f - p);
        long threshold = (long) Math.ceil(p * 16777216.0);
        int w = F.length(), lw = LONGS.length(), bound = F.loopBound(n), j = 0;
        for (; j < bound; j += w) {
            for (int half = 0; half < w; half += lw) {
                LongVector z = LongVector.broadcast(LONGS, base + (long) (first + j + half) * GOLDEN).add(LANE_GOLDEN);
                z = z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 30)).mul(0xBF58476D1CE4E5B9L);
                z = z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 27)).mul(0x94D049BB133111EBL);
                z = z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 31));
                z.lanewise(VectorOperators.LSHR, 40).compare(VectorOperators.GE, threshold).intoArray(keep, first + j + half);
            }
            VectorMask<Float> kept = VectorMask.fromArray(F, keep, first + j);
            FloatVector v = FloatVector.fromArray(F, x, xOff + j).mul(scale);
            v.blend(0f, kept.not()).intoArray(x, xOff + j);
        }
        ScalarKernels.INSTANCE.dropout(x, xOff + j, n - j, p, base, keep, first + j);
    }

    @Override
    public void applyMask(float[] src, int sOff, float[] dst, int dOff, int n, boolean[] keep, int kOff, float scale) {
        int w = F.length(), bound = F.loopBound(n), j = 0;
        for (; j < bound; j += w) {
            VectorMask<Float> kept = VectorMask.fromArray(F, keep, kOff + j);
            FloatVector.fromArray(F, src, sOff + j).mul(scale).blend(0f, kept.not()).intoArray(dst, dOff + j);
        }
        ScalarKernels.INSTANCE.applyMask(src, sOff + j, dst, dOff + j, n - j, keep, kOff + j, scale);
    }

    /** {@link ScalarKernels#softmaxBackward}, the row's dot product summed in lanes (float) rather than in double. */
    @Override
    public void softmaxBackward(float[] p, int pOff, float[] d, int dOff, int n, boolean[] keep, int kOff, float keepScale, float scale) {
        int w = F.length(), bound = F.loopBound(n), u = 0;
        FloatVector acc = FloatVector.zero(F);
        for (; u < bound; u += w) {
            FloatVector du = FloatVector.fromArray(F, d, dOff + u);
            if (keep != null) {
                du = du.mul(keepScale).blend(0f, VectorMask.fromArray(F, keep, kOff + u).not());
                du.intoArray(d, dOff + u);
            }
            acc = FloatVector.fromArray(F, p, pOff + u).fma(du, acc);
        }
        double dot = sum(acc);
        for (; u < n; u++) {
            float du = d[dOff + u];
            if (keep != null) du = keep[kOff + u] ? du * keepScale : 0f;
            d[dOff + u] = du;
            dot += p[pOff + u] * du;
        }
        FloatVector dotV = FloatVector.broadcast(F, (float) dot);
        for (u = 0; u < bound; u += w) {
            FloatVector pu = FloatVector.fromArray(F, p, pOff + u);
            pu.mul(FloatVector.fromArray(F, d, dOff + u).sub(dotV)).mul(scale).intoArray(d, dOff + u);
        }
        for (; u < n; u++) d[dOff + u] = p[pOff + u] * (d[dOff + u] - (float) dot) * scale;
    }

    /**
     * Half of {@link ScalarKernels#erfFast}'s erfc: {@code erfc(a) / 2 = poly(t) e / 2} with {@code a = |x| / sqrt 2},
     * {@code t = 1 / (1 + p a)} and {@code e = exp(-a^2) = exp(-x^2 / 2)} passed in, because the backward's
     * Gaussian density is the same exp. Then {@code Phi(x) = 1 - h} for {@code x >= 0} and {@code h} below:
     * the standard normal CDF without forming {@code 1 + erf} (which loses the left tail to cancellation).
     * The coefficients are A and S 7.1.26's halved (exactly: a power of two). The callers spell out the
     * rest of the formula rather than call another helper: C2 stops inlining once a method's graph passes
     * NodeCountInliningCutoff, and a vector passed to a call it did not inline is boxed (the backward,
     * with a second exp, ran 3x slower than the forward that way).
     */
    private static FloatVector halfErfc(FloatVector x, FloatVector e) {
        FloatVector t = FloatVector.broadcast(F, 1f).div(x.abs().fma(0.3275911f * 0.70710677f, 1f));
        FloatVector poly = t.fma(0.5307027f, -0.72657603f);
        poly = poly.fma(t, FloatVector.broadcast(F, 0.7107069f));
        poly = poly.fma(t, FloatVector.broadcast(F, -0.14224836f));
        poly = poly.fma(t, FloatVector.broadcast(F, 0.1274148f));
        return poly.mul(t).mul(e);
    }

    @Override
    public void gelu(float[] x, int off, int n) {
        geluInPlace(x, off, n);
    }

    /** {@link #gelu} without an instance, for the GEMM's epilogue: {@code x Phi(x)}. */
    static void geluInPlace(float[] x, int off, int n) {
        int w = F.length(), bound = F.loopBound(n), i = 0;
        for (; i < bound; i += w) {
            FloatVector v = FloatVector.fromArray(F, x, off + i);
            FloatVector e = exp(v.mul(v).mul(-0.5f));
            FloatVector h = halfErfc(v, e);
            v.mul(h.neg().add(1f).blend(h, v.lt(0f))).intoArray(x, off + i); // x Phi(x)
        }
        ScalarKernels.INSTANCE.gelu(x, off + i, n - i);
    }

    /** {@code d *= Phi(x) + x phi(x)}, the density {@code phi(x) = exp(-x^2 / 2) / sqrt(2 pi)} sharing the CDF's exp. */
    @Override
    public void geluBackward(float[] x, float[] d, int off, int n) {
        int w = F.length(), bound = F.loopBound(n), i = 0;
        for (; i < bound; i += w) {
            FloatVector v = FloatVector.fromArray(F, x, off + i);
            FloatVector e = exp(v.mul(v).mul(-0.5f));
            FloatVector h = halfErfc(v, e), cdf = h.neg().add(1f).blend(h, v.lt(0f));
            FloatVector.fromArray(F, d, off + i).mul(v.fma(e.mul(0.3989422804014327f), cdf)).intoArray(d, off + i);
        }
        ScalarKernels.INSTANCE.geluBackward(x, d, off + i, n - i);
    }

    @Override
    public void layerNorm(float[] x, float[] residual, int r0, int r1, int h, float[] gamma, float[] beta, float eps,
                          float[] y, float[] xhat, float[] rstd) {
        int w = F.length(), bound = F.loopBound(h);
        for (int r = r0; r < r1; r++) {
            int o = r * h, i = 0;
            FloatVector vs = FloatVector.zero(F);
            for (; i < bound; i += w) {
                FloatVector z = FloatVector.fromArray(F, x, o + i);
                if (residual != null) z = z.add(FloatVector.fromArray(F, residual, o + i));
                z.intoArray(y, o + i);
                vs = vs.add(z);
            }
            float sum = sum(vs);
            for (; i < h; i++) {
                float z = residual == null ? x[o + i] : x[o + i] + residual[o + i];
                y[o + i] = z;
                sum += z;
            }
            float mean = sum / h;
            FloatVector vm = FloatVector.broadcast(F, mean), vq = FloatVector.zero(F);
            for (i = 0; i < bound; i += w) {
                FloatVector d = FloatVector.fromArray(F, y, o + i).sub(vm);
                vq = d.fma(d, vq);
            }
            float sq = sum(vq);
            for (; i < h; i++) {
                float d = y[o + i] - mean;
                sq += d * d;
            }
            float inv = (float) (1.0 / Math.sqrt(sq / h + eps));
            if (rstd != null) rstd[r] = inv;
            FloatVector vi = FloatVector.broadcast(F, inv);
            for (i = 0; i < bound; i += w) {
                FloatVector xh = FloatVector.fromArray(F, y, o + i).sub(vm).mul(vi);
                if (xhat != null) xh.intoArray(xhat, o + i);
                xh.fma(FloatVector.fromArray(F, gamma, i), FloatVector.fromArray(F, beta, i)).intoArray(y, o + i);
            }
            for (; i < h; i++) {
                float xh = (y[o + i] - mean) * inv;
                if (xhat != null) xhat[o + i] = xh;
                y[o + i] = xh * gamma[i] + beta[i];
            }
        }
    }

    @Override
    public void layerNormBackward(float[] xhat, float[] rstd, float[] dy, int r0, int r1, int h, float[] gamma,
                                  float[] dz, float[] dGamma, float[] dBeta) {
        int w = F.length(), bound = F.loopBound(h);
        if (bound != h) {
            ScalarKernels.INSTANCE.layerNormBackward(xhat, rstd, dy, r0, r1, h, gamma, dz, dGamma, dBeta);
            return;
        }
        for (int r = r0; r < r1; r++) {
            int o = r * h;
            FloatVector sg = FloatVector.zero(F), sgx = FloatVector.zero(F);
            for (int i = 0; i < h; i += w) {
                FloatVector d = FloatVector.fromArray(F, dy, o + i), xh = FloatVector.fromArray(F, xhat, o + i);
                d.fma(xh, FloatVector.fromArray(F, dGamma, i)).intoArray(dGamma, i);
                d.add(FloatVector.fromArray(F, dBeta, i)).intoArray(dBeta, i);
                FloatVector g = d.mul(FloatVector.fromArray(F, gamma, i));
                sg = sg.add(g);
                sgx = g.fma(xh, sgx);
            }
            FloatVector meanG = FloatVector.broadcast(F, sum(sg) / h), meanGx = FloatVector.broadcast(F, sum(sgx) / h);
            FloatVector s = FloatVector.broadcast(F, rstd[r]);
            for (int i = 0; i < h; i += w) {
                FloatVector g = FloatVector.fromArray(F, dy, o + i).mul(FloatVector.fromArray(F, gamma, i));
                FloatVector xh = FloatVector.fromArray(F, xhat, o + i);
                g.sub(meanG).sub(xh.mul(meanGx)).mul(s).intoArray(dz, o + i);
            }
        }
    }
}
