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
    public float dot(float[] a, int ao, float[] b, int bo, int n) {
        float s = 0f;
        for (int i = 0; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
    }

    @Override
    public void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        for (int i = 0; i < n; i++) y[yo + i] += alpha * x[xo + i];
    }

    @Override
    public void matmulTransposed(float[] a, float[] b, float[] c, int m, int n, int k) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) c[i * n + j] = dot(a, i * k, b, j * k, k);
        }
    }

    @Override
    public void linear(float[] x, int rows, int in, float[] w, float[] bias, int out, float[] y) {
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                float s = bias == null ? 0f : bias[o];
                y[r * out + o] = s + dot(x, r * in, w, o * in, in);
            }
        }
    }

    @Override
    public PackedWeight pack(float[] w, int out, int in) {
        return new PackedWeight(w.clone(), in, out);
    }

    @Override
    public void linear(float[] x, int rows, PackedWeight w, float[] bias, float[] y) {
        linear(x, rows, w.in, w.data, bias, w.out, y);
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
    public void linearBackward(float[] x, float[] dy, int rows, int in, float[] w, int out, float[] dx, float[] dw, float[] db) {
        if (dx != null) {
            for (int r = 0; r < rows; r++) {
                for (int i = 0; i < in; i++) {
                    float s = 0f;
                    for (int o = 0; o < out; o++) s += dy[r * out + o] * w[o * in + i];
                    dx[r * in + i] = s;
                }
            }
        }
        for (int o = 0; o < out; o++) {
            for (int r = 0; r < rows; r++) {
                float d = dy[r * out + o];
                if (db != null) db[o] += d;
                for (int i = 0; i < in; i++) dw[o * in + i] += d * x[r * in + i];
            }
        }
    }
}
