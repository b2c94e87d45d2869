package dev.bertj.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API kernels at the platform's preferred width. Only loaded after {@link Vectorization}
 * has checked that {@code jdk.incubator.vector} is present, so bertj runs without it.
 */
final class VectorKernels implements Kernels {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

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
        float s = acc.reduceLanes(VectorOperators.ADD);
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

    /** Rows in parallel; four output columns per pass share each load of x. */
    @Override
    public void linear(float[] x, int rows, int in, float[] w, float[] bias, int out, float[] y) {
        java.util.stream.IntStream range = java.util.stream.IntStream.range(0, rows);
        if ((long) rows * in * out > 1 << 20) range = range.parallel();
        range.forEach(r -> linearRow(x, r * in, in, w, bias, out, y, r * out));
    }

    private static void linearRow(float[] x, int xo, int in, float[] w, float[] bias, int out, float[] y, int yo) {
        int width = F.length();
        int bound = F.loopBound(in);
        int o = 0;
        for (; o + 4 <= out; o += 4) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            int w0 = o * in, w1 = w0 + in, w2 = w1 + in, w3 = w2 + in;
            int i = 0;
            for (; i < bound; i += width) {
                FloatVector xv = FloatVector.fromArray(F, x, xo + i);
                a0 = xv.fma(FloatVector.fromArray(F, w, w0 + i), a0);
                a1 = xv.fma(FloatVector.fromArray(F, w, w1 + i), a1);
                a2 = xv.fma(FloatVector.fromArray(F, w, w2 + i), a2);
                a3 = xv.fma(FloatVector.fromArray(F, w, w3 + i), a3);
            }
            float s0 = a0.reduceLanes(VectorOperators.ADD), s1 = a1.reduceLanes(VectorOperators.ADD);
            float s2 = a2.reduceLanes(VectorOperators.ADD), s3 = a3.reduceLanes(VectorOperators.ADD);
            for (; i < in; i++) {
                float xi = x[xo + i];
                s0 += xi * w[w0 + i];
                s1 += xi * w[w1 + i];
                s2 += xi * w[w2 + i];
                s3 += xi * w[w3 + i];
            }
            if (bias != null) {
                s0 += bias[o];
                s1 += bias[o + 1];
                s2 += bias[o + 2];
                s3 += bias[o + 3];
            }
            y[yo + o] = s0;
            y[yo + o + 1] = s1;
            y[yo + o + 2] = s2;
            y[yo + o + 3] = s3;
        }
        for (; o < out; o++) {
            float s = 0f;
            int wo = o * in;
            int i = 0;
            FloatVector acc = FloatVector.zero(F);
            for (; i < bound; i += width) acc = FloatVector.fromArray(F, x, xo + i).fma(FloatVector.fromArray(F, w, wo + i), acc);
            s = acc.reduceLanes(VectorOperators.ADD);
            for (; i < in; i++) s += x[xo + i] * w[wo + i];
            y[yo + o] = bias == null ? s : s + bias[o];
        }
    }

    /** dx row by row and dw output by output, each an axpy chain along the contiguous dimension. */
    @Override
    public void linearBackward(float[] x, float[] dy, int rows, int in, float[] w, int out, float[] dx, float[] dw, float[] db) {
        boolean big = (long) rows * in * out > 1 << 20;
        if (dx != null) {
            java.util.stream.IntStream r = java.util.stream.IntStream.range(0, rows);
            if (big) r = r.parallel();
            r.forEach(row -> {
                java.util.Arrays.fill(dx, row * in, row * in + in, 0f);
                for (int o = 0; o < out; o++) {
                    float d = dy[row * out + o];
                    if (d != 0f) axpy(d, w, o * in, dx, row * in, in);
                }
            });
        }
        java.util.stream.IntStream os = java.util.stream.IntStream.range(0, out);
        if (big) os = os.parallel();
        os.forEach(o -> {
            float sum = 0f;
            for (int row = 0; row < rows; row++) {
                float d = dy[row * out + o];
                sum += d;
                if (d != 0f) axpy(d, x, row * in, dw, o * in, in);
            }
            if (db != null) db[o] += sum;
        });
    }
}
