package dev.bertj.cpu;

/** Plain loops: the reference every fast kernel is tested against. */
public final class ScalarKernels implements Kernels {
    /** The shared instance. */
    public static final ScalarKernels INSTANCE = new ScalarKernels();

    private ScalarKernels() { }

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public void linear(float[] x, int rows, int in, float[] w, float[] bias, int out, float[] y) {
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                float s = 0f;
                for (int i = 0; i < in; i++) s += x[r * in + i] * w[o * in + i];
                y[r * out + o] = (bias == null ? 0f : bias[o]) + s;
            }
        }
    }

    @Override
    public PackedWeight pack(float[] w, int out, int in) {
        return new PackedWeight(w.clone(), in, out);
    }

    @Override
    public void repack(float[] w, PackedWeight into) {
        System.arraycopy(w, 0, into.data, 0, into.in * into.out);
    }

    @Override
    public void linear(float[] x, int rows, PackedWeight w, float[] bias, float[] y) {
        linear(x, rows, w.in, w.data, bias, w.out, y);
    }

    @Override
    public void linearGelu(float[] x, int rows, PackedWeight w, float[] bias, float[] y) {
        linear(x, rows, w, bias, y);
        gelu(y, 0, rows * w.out);
    }

    @Override
    public void gemm(int m, int n, int k, float[] a, int aOff, int ars, int acs, float[] b, int bOff, int brs, int bcs,
                     float[] c, int cOff, int ldc, boolean accumulate) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float s = 0f;
                for (int kk = 0; kk < k; kk++) s += a[aOff + i * ars + kk * acs] * b[bOff + kk * brs + j * bcs];
                int o = cOff + i * ldc + j;
                c[o] = accumulate ? c[o] + s : s;
            }
        }
    }

    @Override
    public void addColumnSums(float[] x, int off, int rows, int cols, int ld, float[] out, int outOff) {
        for (int j = 0; j < cols; j++) {
            float s = 0f;
            for (int r = 0; r < rows; r++) s += x[off + r * ld + j];
            out[outOff + j] += s;
        }
    }

    @Override
    public void softmax(float[] x, int off, int n, float scale, float[] mask, int maskOff) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            float z = x[off + i] * scale;
            // HF adds float32.min where the mask is 0; exp of that underflows to exactly 0.
            if (mask != null) z += mask[maskOff + i];
            x[off + i] = z;
            max = Math.max(max, z);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            x[off + i] = (float) Math.exp(x[off + i] - max);
            sum += x[off + i];
        }
        float inv = (float) (1.0 / sum);
        for (int i = 0; i < n; i++) x[off + i] *= inv;
    }

    @Override
    public void dropout(float[] x, int xOff, int n, float p, long base, boolean[] keep, int first) {
        float scale = 1f / (1f - p);
        for (int j = 0; j < n; j++) {
            int i = first + j;
            keep[i] = dev.bertj.backend.DropoutRng.keep(base, i, p);
            x[xOff + j] = keep[i] ? x[xOff + j] * scale : 0f;
        }
    }

    @Override
    public void applyMask(float[] src, int sOff, float[] dst, int dOff, int n, boolean[] keep, int kOff, float scale) {
        for (int j = 0; j < n; j++) dst[dOff + j] = keep[kOff + j] ? src[sOff + j] * scale : 0f;
    }

    @Override
    public void softmaxBackward(float[] p, int pOff, float[] d, int dOff, int n, boolean[] keep, int kOff, float keepScale, float scale) {
        double dot = 0;
        for (int u = 0; u < n; u++) {
            float du = d[dOff + u];
            if (keep != null) du = keep[kOff + u] ? du * keepScale : 0f;
            d[dOff + u] = du;
            dot += p[pOff + u] * du;
        }
        for (int u = 0; u < n; u++) d[dOff + u] = p[pOff + u] * (d[dOff + u] - (float) dot) * scale;
    }

    @Override
    public void gelu(float[] x, int off, int n) {
        for (int i = off; i < off + n; i++) x[i] = (float) (0.5 * x[i] * (1 + erfFast(x[i] * 0.7071067811865476)));
    }

    @Override
    public void geluBackward(float[] x, float[] d, int off, int n) {
        for (int i = off; i < off + n; i++) {
            double v = x[i];
            d[i] = (float) (d[i] * (0.5 * (1 + erfFast(v * 0.7071067811865476)) + v * Math.exp(-0.5 * v * v) * 0.3989422804014327));
        }
    }

    /**
     * The kernels' error function, to 1.5e-7 absolute (Abramowitz and Stegun 7.1.26), the
     * approximation PyTorch's vectorized CPU erf uses too: one exp and one division. (The reference
     * erf, to 1e-15, is {@link dev.bertj.backend.Activation#erf}; a test bounds their difference.)
     * <pre>
     * erf(x) = 1 - (a1 t + a2 t^2 + a3 t^3 + a4 t^4 + a5 t^5) exp(-x^2),  t = 1 / (1 + p |x|)
     * </pre>
     */
    public static double erfFast(double x) {
        double a = Math.abs(x);
        double t = 1.0 / (1.0 + 0.3275911 * a);
        double poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
        double r = 1.0 - poly * Math.exp(-a * a);
        return x < 0 ? -r : r;
    }

    @Override
    public void layerNorm(float[] x, float[] residual, int r0, int r1, int h, float[] gamma, float[] beta, float eps,
                          float[] y, float[] xhat, float[] rstd) {
        for (int r = r0; r < r1; r++) {
            int o = r * h;
            double sum = 0;
            for (int i = 0; i < h; i++) {
                float z = residual == null ? x[o + i] : x[o + i] + residual[o + i];
                y[o + i] = z;
                sum += z;
            }
            float mean = (float) (sum / h);
            double sq = 0;
            for (int i = 0; i < h; i++) {
                float d = y[o + i] - mean;
                sq += d * d;
            }
            float inv = (float) (1.0 / Math.sqrt(sq / h + eps));
            if (rstd != null) {
                rstd[r] = inv;
                for (int i = 0; i < h; i++) xhat[o + i] = (y[o + i] - mean) * inv;
            }
            for (int i = 0; i < h; i++) y[o + i] = (y[o + i] - mean) * inv * gamma[i] + beta[i];
        }
    }

    @Override
    public void layerNormBackward(float[] xhat, float[] rstd, float[] dy, int r0, int r1, int h, float[] gamma,
                                  float[] dz, float[] dGamma, float[] dBeta) {
        for (int r = r0; r < r1; r++) {
            int o = r * h;
            double sumG = 0, sumGx = 0;
            for (int i = 0; i < h; i++) {
                float d = dy[o + i];
                dGamma[i] += d * xhat[o + i];
                dBeta[i] += d;
                float gi = d * gamma[i];
                sumG += gi;
                sumGx += gi * xhat[o + i];
            }
            float meanG = (float) (sumG / h), meanGx = (float) (sumGx / h), s = rstd[r];
            for (int i = 0; i < h; i++) dz[o + i] = s * (dy[o + i] * gamma[i] - meanG - xhat[o + i] * meanGx);
        }
    }
}
