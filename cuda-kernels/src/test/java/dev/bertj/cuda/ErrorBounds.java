package dev.bertj.cuda;

import dev.bertj.nn.Linear;
import dev.bertj.tensor.Tensor;

/**
 * Worst-case differences between the GPU (or its emulation) and the CPU reference, from each operation's
 * error bound, so that every GPU tolerance is derived rather than chosen. U is float32's unit roundoff:
 * one rounding errs by at most U relative, one ulp is at most 2U relative. A sum of n terms in any order
 * errs by at most gamma(n - 1) times the sum of the terms' magnitudes (Higham, Accuracy and Stability of
 * Numerical Algorithms, 2nd ed., 3.1 and 4.2); a product of such sums by gamma(k) times the product of
 * the magnitudes (3.5). The CPU's own error is counted too: where it sums in double it is one rounding.
 *
 * <p>CUDA's single-precision functions, in ulp, from the CUDA C++ Programming Guide ("Mathematical
 * Functions", without -use_fast_math; NVRTC gets --prec-div=true --prec-sqrt=true, so x / y and sqrtf are
 * IEEE-rounded): expf 2, logf 1, erff 2, tanhf 2, rsqrtf 2.
 */
final class ErrorBounds {
    private ErrorBounds() { }

    /** float32's unit roundoff, 2^-24. */
    static final double U = 0x1p-24;
    static final int EXPF_ULP = 2, LOGF_ULP = 1, ERFF_ULP = 2, TANHF_ULP = 2, RSQRTF_ULP = 2;
    /**
     * The CPU's erf (dev.bertj.cpu.ScalarKernels.erf, Abramowitz-Stegun 7.1.26): 1.5e-7 absolute, plus its
     * float evaluation in the Vector API path: about eight roundings of quantities at most 1.
     */
    static final double CPU_ERF = 1.5e-7 + 8 * U;

    /** n roundings compounded: n U / (1 - n U). */
    static double gamma(int n) {
        return n * U / (1 - n * U);
    }

    /**
     * GELU, x/2 (1 + erf(x / sqrt 2)): the GPU's erff (2 ulp of a value at most 1: 4U absolute) and the
     * CPU's erf both err inside the bracket, which x/2 scales; the argument's rounding (erf' at most
     * 2/sqrt(pi), times |x|/sqrt(2) U, times exp(-x^2/2) ≤ 0.61/|x|) adds 1U there, and the bracket's
     * add, the product and the CPU's final rounding 3U of |y| ≤ |x|.
     */
    static double gelu(float x) {
        return Math.abs(x) * (0.5 * (CPU_ERF + 2 * ERFF_ULP * U + U) + 3 * U);
    }

    /**
     * d * gelu'(x) = d (Phi(x) + x phi(x)): Phi errs as in {@link #gelu} (halved); x phi(x) through expf
     * (4U relative) and its argument -x^2/2 (x^2 U absolute in the exponent), which with |x| phi(x)
     * (x^2 + 6) ≤ 1.8 gives at most 1.8U; the sum and the product with d round twice (|gelu'| ≤ 1.13).
     */
    static double geluBackward(float x, float d) {
        return Math.abs(d) * (0.5 * (CPU_ERF + 2 * ERFF_ULP * U + U) + 1.8 * U + 2 * 1.13 * U + 2 * U);
    }

    /** tanh: tanhf's 2 ulp and the CPU's rounding of Math.tanh, of |y| ≤ 1. */
    static double tanh(float y) {
        return (2 * TANHF_ULP + 1) * U * Math.max(Math.abs(y), U);
    }

    /** d (1 - y^2): two roundings inside (one if contracted into an fma) and one for the product, each side. */
    static double tanhBackward(float y, float d) {
        return 2 * 3 * U * Math.abs(d) * Math.max(1, y * y);
    }

    /**
     * log-sum-exp of C logits of magnitude at most L on the GPU (cross_entropy_forward_backward): each
     * expf's argument (at most 2L) rounds and expf errs 4U relative; the sum of C positive terms adds
     * (C - 1)U relative; logf adds 2U of |log sum| ≤ ln C; mx + log rounds U of |lse| ≤ L + ln C.
     */
    static double logSumExp(double L, int classes) {
        double lnC = Math.log(classes);
        return U * (2 * L + 2 * EXPF_ULP + (classes - 1) + 2 * LOGF_ULP * lnC + L + lnC);
    }

    /**
     * The cross-entropy gradient (softmax - onehot) / count: p = expf(l - lse) errs by the lse error, the
     * rounding of l - lse (at most 2L + ln C) and expf's 4U, relative to p ≤ 1; then the subtraction and
     * the division round, on each side. The CPU (double softmax) rounds three times.
     */
    static double crossEntropyGradient(double L, int classes, int count) {
        double p = logSumExp(L, classes) + U * (2 * L + Math.log(classes)) + 2 * EXPF_ULP * U;
        return (p + 2 * U + 3 * U) / count;
    }

    /** The mean cross-entropy: each row's lse - l errs by the lse error plus one rounding; the float result rounds on both sides. */
    static double crossEntropyLoss(double L, int classes) {
        return logSumExp(L, classes) + U * (2 * L + Math.log(classes)) + 2 * U * (L + Math.log(classes));
    }

    /**
     * Softmax probabilities of one row of n scores whose inputs differ between the sides by at most dz
     * (0 when both compute the same scaled scores): p_t changes by at most 2 dz relative; each expf errs 4U
     * (the CPU's rounded exp U), the float sum (n - 1)U and 4U from its terms, 1/sum and the product U each.
     */
    static double softmax(float p, int n, double dz) {
        return Math.abs(p) * (2 * dz + (2 * EXPF_ULP + 1 + (n - 1) + 2 * EXPF_ULP + 2 + 2) * U);
    }

    /**
     * Roundings along the longest path of common.cuh's block_sum over n values with {@code block} threads:
     * each thread's serial sum, five warp-shuffle levels, then the warps' partials (sums with zero are exact).
     */
    static int blockSumRoundings(int n, int block) {
        int warps = Math.max(1, Math.min(block, n + 31) / 32);
        return (n + block - 1) / block - 1 + 5 + (32 - Integer.numberOfLeadingZeros(warps - 1));
    }

    /**
     * Residual LayerNorm (dev.bertj.nn.LayerNorm), from the CPU's results: bounds on y, xhat and rstd. The
     * mean of z = x + residual errs by gamma(sums + 1) of the mean |z| (sums: the roundings along the
     * reduction's longest path, h - 1 in any order); the variance by gamma(sums + 3) relative (the
     * mean's own error cancels to first order, as sum(z - mean) = 0); rsqrtf adds 4U, the CPU's double
     * sqrt and division U; xhat = (z - mean) rstd rounds twice; y = xhat g + b twice on each side.
     */
    static double[][] layerNorm(float[] x, float[] residual, int rows, int h, float[] g, float[] b, float[] xhat, float[] rstd, int sums) {
        double[] dy = new double[rows * h], dxhat = new double[rows * h], drstd = new double[rows];
        double rel = 0.5 * gamma(sums + 3) + 2 * RSQRTF_ULP * U + U;
        for (int r = 0; r < rows; r++) {
            double meanAbs = 0;
            for (int i = 0; i < h; i++) meanAbs += Math.abs(x[r * h + i] + (residual == null ? 0f : residual[r * h + i]));
            double dMean = gamma(sums + 1) * meanAbs / h;
            drstd[r] = rstd[r] * rel;
            for (int i = 0; i < h; i++) {
                int o = r * h + i;
                dxhat[o] = rstd[r] * dMean + Math.abs(xhat[o]) * (rel + 3 * U);
                dy[o] = Math.abs(g[i]) * dxhat[o] + 4 * U * (Math.abs(xhat[o] * g[i]) + Math.abs(b[i]));
            }
        }
        return new double[][] {dy, dxhat, drstd};
    }

    /**
     * A cross-entropy loss from logits that differ by at most max|cpu - gpu|: d loss / d logit_r sums to at
     * most 2 / count per row in absolute value, so the loss moves by at most 2 max|diff|, plus its own
     * evaluation bound (ErrorBounds.crossEntropyLoss).
     */
    static double loss(float[] cpuLogits, float[] gpuLogits, int classes) {
        double diff = 0;
        for (int i = 0; i < cpuLogits.length; i++) diff = Math.max(diff, Math.abs(cpuLogits[i] - gpuLogits[i]));
        return 2 * diff + crossEntropyLoss(maxAbs(cpuLogits) + diff, classes);
    }

    /** A Linear with |W| and |b|: the CPU's product with it on |x| gives the magnitudes a GEMM's error bound scales. */
    static Linear abs(Linear l) {
        return new Linear(new Tensor(abs(l.weight().data()), l.weight().shape()),
                l.bias() == null ? null : new Tensor(abs(l.bias().data()), l.bias().shape()));
    }

    /** The largest |v| of a. */
    static float maxAbs(float[] a) {
        float m = 0;
        for (float v : a) m = Math.max(m, Math.abs(v));
        return m;
    }

    /** |a|, element by element. */
    static float[] abs(float[] a) {
        float[] r = new float[a.length];
        for (int i = 0; i < a.length; i++) r[i] = Math.abs(a[i]);
        return r;
    }
}
