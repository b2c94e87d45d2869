package dev.bertj.cpu;

/**
 * The CPU kernel interface. {@link ScalarKernels} is the reference (the oracle for every fast
 * kernel, and the text to read); {@link Vectorization#kernels()} picks the fastest usable one.
 */
public interface Kernels {
    /** Name for logs and benchmarks. */
    String name();

    /**
     * A Linear layer on {@code rows} rows: {@code y[r][o] = b[o] + sum_i x[r][i] * w[o][i]}, with
     * {@code w} stored {@code [out, in]} as in PyTorch; {@code bias} may be null.
     */
    void linear(float[] x, int rows, int in, float[] w, float[] bias, int out, float[] y);

    /** Lays out a Linear weight {@code w [out, in]} for {@link #linear(float[], int, PackedWeight, float[], float[])}. */
    PackedWeight pack(float[] w, int out, int in);

    /** Packs {@code w} again into {@code into} (made by this {@link #pack} for the same shape), so a training step allocates nothing. */
    void repack(float[] w, PackedWeight into);

    /** {@link #linear(float[], int, int, float[], float[], int, float[])} with a weight packed by {@link #pack}. */
    void linear(float[] x, int rows, PackedWeight w, float[] bias, float[] y);

    /** {@code y = gelu(x W^T + b)}, exact GELU as {@link #gelu}, applied while each output tile is hot. */
    void linearGelu(float[] x, int rows, PackedWeight w, float[] bias, float[] y);

    /**
     * General matrix product on strided views: {@code C = A B} or, with {@code accumulate},
     * {@code C += A B}, where {@code A(i, kk) = a[aOff + i * ars + kk * acs]} is M x K,
     * {@code B(kk, j) = b[bOff + kk * brs + j * bcs]} is K x N, and C is row-major from {@code cOff}
     * with row stride {@code ldc}. Transposes are strides, so no caller copies a matrix.
     */
    void gemm(int m, int n, int k, float[] a, int aOff, int ars, int acs, float[] b, int bOff, int brs, int bcs,
              float[] c, int cOff, int ldc, boolean accumulate);

    /**
     * {@code out[outOff + j] += sum_r x[off + r * ld + j]} for {@code j < cols}, summing each column's
     * {@code rows} values from 0 in row order (a Linear's bias gradient: {@code db += 1^T dy}).
     */
    void addColumnSums(float[] x, int off, int rows, int cols, int ld, float[] out, int outOff);

    /**
     * Softmax in place over {@code x[off, off + n)} of {@code z_i = x_i * scale + mask_i} ({@code mask}
     * additive, e.g. 0 or {@code -Float.MAX_VALUE} as HF's padding mask; may be null).
     */
    void softmax(float[] x, int off, int n, float scale, float[] mask, int maskOff);

    /**
     * Inverted dropout on {@code x[xOff, xOff + n)} as elements {@code [first, first + n)} of a site's
     * {@link dev.bertj.backend.DropoutRng} mask from {@code base}: {@code keep[first + j]} gets the flag and
     * {@code x = keep ? x * scale : 0} with {@code scale = 1 / (1 - p)}. Masks are integer hashes, so every
     * implementation gives the same bits.
     */
    void dropout(float[] x, int xOff, int n, float p, long base, boolean[] keep, int first);

    /**
     * A kept mask applied again (dropout's backward, and the dropped probabilities attention's backward
     * rebuilds): {@code dst[dOff + j] = keep[kOff + j] ? src[sOff + j] * scale : 0} for {@code j < n};
     * {@code src} may be {@code dst} at the same offset.
     */
    void applyMask(float[] src, int sOff, float[] dst, int dOff, int n, boolean[] keep, int kOff, float scale);

    /**
     * Attention's softmax backward on one row, the dropout undone first ({@code keep} null for none):
     * <pre>
     * d_u = keep_u ? d_u * keepScale : 0;    d_u = p_u (d_u - sum_v p_v d_v) * scale
     * </pre>
     * on {@code p[pOff, pOff + n)}, {@code d[dOff, dOff + n)} (overwritten) and {@code keep[kOff, ...)}.
     */
    void softmaxBackward(float[] p, int pOff, float[] d, int dOff, int n, boolean[] keep, int kOff, float keepScale, float scale);

    /** Exact GELU, {@code x/2 (1 + erf(x / sqrt 2))} with erf to 1.5e-7, in place on {@code x[off, off + n)}. */
    void gelu(float[] x, int off, int n);

    /** {@code d[i] *= gelu'(x[i])} on {@code [off, off + n)}: {@code gelu'(x) = Phi(x) + x phi(x)}, erf as in {@link #gelu}. */
    void geluBackward(float[] x, float[] d, int off, int n);

    /**
     * LayerNorm over rows {@code [r0, r1)} of {@code h}: {@code y = (z - mean) / sqrt(var + eps) * gamma + beta} with
     * {@code z = x + residual} (residual may be null; y may be x). When {@code xhat} and {@code rstd}
     * are given they receive the normalized rows and each row's {@code 1/sqrt(var + eps)}.
     */
    void layerNorm(float[] x, float[] residual, int r0, int r1, int h, float[] gamma, float[] beta, float eps,
                   float[] y, float[] xhat, float[] rstd);

    /**
     * Backward of {@link #layerNorm} for rows {@code [r0, r1)}, from its {@code xhat} and {@code rstd}:
     * {@code dz = rstd (g - mean(g) - xhat mean(g xhat))} with {@code g = dy gamma} ({@code dz} may be
     * {@code dy}), and {@code dGamma += dy xhat}, {@code dBeta += dy}.
     */
    void layerNormBackward(float[] xhat, float[] rstd, float[] dy, int r0, int r1, int h, float[] gamma,
                           float[] dz, float[] dGamma, float[] dBeta);
}
