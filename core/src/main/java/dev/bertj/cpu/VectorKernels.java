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

    /**
     * Register-blocked: a 4-row by 4-output tile keeps 16 accumulators, so each vector load of x or
     * W feeds four FMAs; reduceLanes runs once per output, after the K loop. Row blocks run in
     * parallel (output blocks when there are few rows).
     */
    @Override
    public void linear(float[] x, int rows, int in, float[] w, float[] bias, int out, float[] y) {
        int rowBlocks = (rows + 3) / 4, outBlocks = (out + 3) / 4;
        boolean parallel = (long) rows * in * out > 1 << 18;
        if (rowBlocks >= 8 || !parallel) {
            java.util.stream.IntStream r = java.util.stream.IntStream.range(0, rowBlocks);
            if (parallel) r = r.parallel();
            r.forEach(rb -> {
                for (int ob = 0; ob < outBlocks; ob++) tile(x, rb * 4, rows, in, w, bias, ob * 4, out, y);
            });
        } else {
            java.util.stream.IntStream.range(0, outBlocks).parallel().forEach(ob -> {
                for (int rb = 0; rb < rowBlocks; rb++) tile(x, rb * 4, rows, in, w, bias, ob * 4, out, y);
            });
        }
    }

    private static void tile(float[] x, int r0, int rows, int in, float[] w, float[] bias, int o0, int out, float[] y) {
        if (r0 + 4 > rows || o0 + 4 > out) {
            edgeTile(x, r0, Math.min(4, rows - r0), in, w, bias, o0, Math.min(4, out - o0), out, y);
            return;
        }
        int width = F.length(), bound = F.loopBound(in);
        int x0 = r0 * in, x1 = x0 + in, x2 = x1 + in, x3 = x2 + in;
        int w0 = o0 * in, w1 = w0 + in, w2 = w1 + in, w3 = w2 + in;
        FloatVector z = FloatVector.zero(F);
        FloatVector a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z;
        FloatVector a20 = z, a21 = z, a22 = z, a23 = z, a30 = z, a31 = z, a32 = z, a33 = z;
        int i = 0;
        for (; i < bound; i += width) {
            FloatVector v0 = FloatVector.fromArray(F, w, w0 + i), v1 = FloatVector.fromArray(F, w, w1 + i);
            FloatVector v2 = FloatVector.fromArray(F, w, w2 + i), v3 = FloatVector.fromArray(F, w, w3 + i);
            FloatVector u = FloatVector.fromArray(F, x, x0 + i);
            a00 = u.fma(v0, a00); a01 = u.fma(v1, a01); a02 = u.fma(v2, a02); a03 = u.fma(v3, a03);
            u = FloatVector.fromArray(F, x, x1 + i);
            a10 = u.fma(v0, a10); a11 = u.fma(v1, a11); a12 = u.fma(v2, a12); a13 = u.fma(v3, a13);
            u = FloatVector.fromArray(F, x, x2 + i);
            a20 = u.fma(v0, a20); a21 = u.fma(v1, a21); a22 = u.fma(v2, a22); a23 = u.fma(v3, a23);
            u = FloatVector.fromArray(F, x, x3 + i);
            a30 = u.fma(v0, a30); a31 = u.fma(v1, a31); a32 = u.fma(v2, a32); a33 = u.fma(v3, a33);
        }
        float[] acc = {
                sum(a00), sum(a01), sum(a02), sum(a03),
                sum(a10), sum(a11), sum(a12), sum(a13),
                sum(a20), sum(a21), sum(a22), sum(a23),
                sum(a30), sum(a31), sum(a32), sum(a33)};
        for (int r = 0; r < 4; r++) {
            int xr = (r0 + r) * in;
            for (int o = 0; o < 4; o++) {
                float s = acc[r * 4 + o];
                int wo = (o0 + o) * in;
                for (int k = i; k < in; k++) s += x[xr + k] * w[wo + k];
                y[(r0 + r) * out + o0 + o] = bias == null ? s : s + bias[o0 + o];
            }
        }
    }

    /** A partial tile at the matrix edge: one output at a time. */
    private static void edgeTile(float[] x, int r0, int nr, int in, float[] w, float[] bias, int o0, int no, int out, float[] y) {
        int width = F.length(), bound = F.loopBound(in);
        for (int r = 0; r < nr; r++) {
            int xo = (r0 + r) * in;
            for (int o = 0; o < no; o++) {
                int wo = (o0 + o) * in;
                FloatVector acc = FloatVector.zero(F);
                int i = 0;
                for (; i < bound; i += width) acc = FloatVector.fromArray(F, x, xo + i).fma(FloatVector.fromArray(F, w, wo + i), acc);
                float s = sum(acc);
                for (; i < in; i++) s += x[xo + i] * w[wo + i];
                y[(r0 + r) * out + o0 + o] = bias == null ? s : s + bias[o0 + o];
            }
        }
    }

    /**
     * Both products as the tiled {@link #linear}: {@code dx = dy · W = linear(dy, W^T)} and
     * {@code dW += dy^T · x = linear(dy^T, x^T)}; the transposes cost O(size) against O(size · K).
     */
    @Override
    public void linearBackward(float[] x, float[] dy, int rows, int in, float[] w, int out, float[] dx, float[] dw, float[] db) {
        if (dx != null) linear(dy, rows, out, transpose(w, out, in), null, in, dx);
        float[] dyT = transpose(dy, rows, out), xT = transpose(x, rows, in);
        float[] prod = new float[out * in];
        linear(dyT, out, rows, xT, null, in, prod);
        for (int i = 0; i < prod.length; i++) dw[i] += prod[i];
        if (db != null) {
            for (int o = 0; o < out; o++) {
                float s = 0f;
                for (int r = 0; r < rows; r++) s += dyT[o * rows + r];
                db[o] += s;
            }
        }
    }

    /** {@code a[rows, cols]} to {@code [cols, rows]}, in cache-sized blocks. */
    static float[] transpose(float[] a, int rows, int cols) {
        float[] t = new float[rows * cols];
        final int b = 32;
        for (int r0 = 0; r0 < rows; r0 += b) {
            for (int c0 = 0; c0 < cols; c0 += b) {
                int r1 = Math.min(rows, r0 + b), c1 = Math.min(cols, c0 + b);
                for (int r = r0; r < r1; r++) for (int c = c0; c < c1; c++) t[c * rows + r] = a[r * cols + c];
            }
        }
        return t;
    }
}
