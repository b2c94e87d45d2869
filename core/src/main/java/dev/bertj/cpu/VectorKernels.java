package dev.bertj.cpu;

import jdk.incubator.vector.FloatVector;
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

    @Override
    public String name() {
        return "vector-" + F.vectorBitSize();
    }

    @Override
    public float dot(float[] a, int ao, float[] b, int bo, int n) {
        int w = F.length();
        int bound = F.loopBound(n);
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (; i < bound; i += w) {
            acc = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), acc);
        }
        // reduceLanes once, outside the loop; the tail is scalar.
        float s = sum(acc);
        for (; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
    }

    @Override
    public void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        int w = F.length();
        int bound = F.loopBound(n);
        FloatVector va = FloatVector.broadcast(F, alpha);
        int i = 0;
        for (; i < bound; i += w) {
            FloatVector.fromArray(F, x, xo + i).fma(va, FloatVector.fromArray(F, y, yo + i)).intoArray(y, yo + i);
        }
        for (; i < n; i++) y[yo + i] += alpha * x[xo + i];
    }

    @Override
    public void matmulTransposed(float[] a, float[] b, float[] c, int m, int n, int k) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) c[i * n + j] = dot(a, i * k, b, j * k, k);
        }
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
    public void linear(float[] x, int rows, PackedWeight w, float[] bias, float[] y) {
        VectorGemm.gemmPacked(rows, w.out, w.in, x, 0, w.in, 1, w.data, y, 0, w.out, bias, false);
    }

    @Override
    public void gemm(int m, int n, int k, float[] a, int aOff, int ars, int acs, float[] b, int bOff, int brs, int bcs,
                     float[] c, int cOff, int ldc, boolean accumulate) {
        VectorGemm.gemm(m, n, k, a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, ldc, null, accumulate);
    }

    /**
     * Both products as GEMMs on strided views, so nothing is transposed or copied:
     * {@code dx = dy W} (B = W row-major) and {@code dW += dy^T x} (A = dy read down its columns).
     */
    @Override
    public void linearBackward(float[] x, float[] dy, int rows, int in, float[] w, int out, float[] dx, float[] dw, float[] db) {
        if (dx != null) VectorGemm.gemm(rows, in, out, dy, 0, out, 1, w, 0, in, 1, dx, 0, in, null, false);
        VectorGemm.gemm(out, in, rows, dy, 0, 1, out, x, 0, in, 1, dw, 0, in, null, true);
        if (db != null) columnSums(dy, rows, out, db);
    }

    /** {@code db[o] += sum_r dy[r][o]}, a vector of columns at a time. */
    private static void columnSums(float[] dy, int rows, int out, float[] db) {
        int w = F.length(), bound = F.loopBound(out);
        int o = 0;
        for (; o < bound; o += w) {
            FloatVector s = FloatVector.zero(F);
            for (int r = 0; r < rows; r++) s = s.add(FloatVector.fromArray(F, dy, r * out + o));
            FloatVector.fromArray(F, db, o).add(s).intoArray(db, o);
        }
        for (; o < out; o++) {
            float s = 0f;
            for (int r = 0; r < rows; r++) s += dy[r * out + o];
            db[o] += s;
        }
    }
}
