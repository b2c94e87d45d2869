package dev.bertj.cpu;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every fast kernel against the scalar reference, on awkward shapes (as Jlama's TestOperations). */
class KernelsTest {
    private static final int[] SIZES = {1, 7, 33, 385};
    private final Kernels fast = Vectorization.kernels();
    private final Kernels ref = ScalarKernels.INSTANCE;

    @Test
    void vectorKernelsAreSelectedWhenTheModuleIsPresent() {
        // Surefire starts the JVM with --add-modules jdk.incubator.vector (see the parent pom).
        assertTrue(fast.name().startsWith("vector-"), "expected Vector API kernels, got " + fast.name());
    }

    private static float[] rand(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    @Test
    void linearMatchesScalar() {
        Random r = new Random(4);
        for (int rows : SIZES) {
            for (int in : SIZES) {
                for (int out : new int[] {1, 7, 33}) {
                    float[] x = rand(r, rows * in), w = rand(r, out * in), b = rand(r, out);
                    float[] y1 = new float[rows * out], y2 = new float[rows * out];
                    ref.linear(x, rows, in, w, b, out, y1);
                    fast.linear(x, rows, in, w, b, out, y2);
                    for (int i = 0; i < y1.length; i++) {
                        assertEquals(y1[i], y2[i], 1e-5f * Math.sqrt(in) * 4, "rows=" + rows + " in=" + in + " out=" + out);
                    }
                }
            }
        }
    }

    /** Shapes around the 6-row by 4-vector tile, its panel groups, and both ways of splitting work. */
    private static final int[][] GEMM_SHAPES = {
        {1, 1, 1}, {25, 17, 9}, {37, 32, 129}, {128, 32, 128}, {13, 2, 300}, {5, 63, 7}, {6, 64, 16}, {7, 65, 17}, {13, 129, 33}, {97, 200, 385}, {1000, 70, 40}, {128, 384, 384}, {601, 131, 1537}, {1030, 48, 50}, {200, 96, 800},
    };

    @Test
    void packedLinearMatchesScalar() {
        Random r = new Random(6);
        for (int[] s : GEMM_SHAPES) {
            int rows = s[0], out = s[1], in = s[2];
            float[] x = rand(r, rows * in), w = rand(r, out * in), b = rand(r, out);
            float[] y1 = new float[rows * out], y2 = new float[rows * out], y3 = new float[rows * out];
            ref.linear(x, rows, in, w, b, out, y1);
            fast.linear(x, rows, fast.pack(w, out, in), b, y2);
            fast.linear(x, rows, fast.pack(w, out, in), null, y3);
            float[] g1 = new float[rows * out], g2 = new float[rows * out];
            ref.linearGelu(x, rows, ref.pack(w, out, in), b, g1);
            fast.linearGelu(x, rows, fast.pack(w, out, in), b, g2);
            for (int i = 0; i < g1.length; i++) assertEquals(g1[i], g2[i], 1e-5f * Math.sqrt(in) * 4, "gelu " + rows + "x" + in + "x" + out);
            String at = "rows=" + rows + " in=" + in + " out=" + out;
            for (int i = 0; i < y1.length; i++) {
                assertEquals(y1[i], y2[i], 1e-5f * Math.sqrt(in) * 4, at);
                assertEquals(y1[i] - b[i % out], y3[i], 1e-5f * Math.sqrt(in) * 4, at);
            }
        }
    }

    @Test
    void stridedGemmMatchesScalarInEveryLayout() {
        checkEveryLayout(GEMM_SHAPES, new Random(7), false);
    }

    /**
     * Attention's GEMMs run inside the per-head parallel region, where the kernels take their serial
     * paths (on AVX2, panels of two vectors for N = 32 or 128): the same check there, in every layout.
     */
    @Test
    void attentionShapedGemmMatchesScalarInsideAParallelRegion() {
        int[][] shapes = {{128, 128, 32}, {128, 32, 128}, {77, 32, 77}, {5, 16, 3}, {13, 48, 20}, {512, 32, 512}, {31, 64, 64}};
        checkEveryLayout(shapes, new Random(8), true);
    }

    private void checkEveryLayout(int[][] shapes, Random r, boolean insideRegion) {
        for (int[] s : shapes) {
            int m = s[0], n = s[1], k = s[2];
            for (int layout = 0; layout < 4; layout++) {
                boolean aT = (layout & 1) != 0, bT = (layout & 2) != 0;
                // Offsets and a wider C row stride, as attention's per-head views have.
                float[] a = rand(r, 3 + m * k), b = rand(r, 5 + k * n);
                int ars = aT ? 1 : k, acs = aT ? m : 1, brs = bT ? 1 : n, bcs = bT ? k : 1, ldc = n + 2;
                for (boolean acc : new boolean[] {false, true}) {
                    float[] c1 = rand(r, 1 + m * ldc), c2 = c1.clone();
                    ref.gemm(m, n, k, a, 3, ars, acs, b, 5, brs, bcs, c1, 1, ldc, acc);
                    String at = "m=" + m + " n=" + n + " k=" + k + " aT=" + aT + " bT=" + bT + " acc=" + acc;
                    if (insideRegion) {
                        boolean[] serial = new boolean[1];
                        Parallel.forEach(2, i -> {
                            if (i != 0) return;
                            serial[0] = !Parallel.available();
                            fast.gemm(m, n, k, a, 3, ars, acs, b, 5, brs, bcs, c2, 1, ldc, acc);
                        });
                        assertTrue(serial[0], "ran inside the region: " + at);
                    } else {
                        fast.gemm(m, n, k, a, 3, ars, acs, b, 5, brs, bcs, c2, 1, ldc, acc);
                    }
                    for (int i = 0; i < c1.length; i++) assertEquals(c1[i], c2[i], 1e-5f * Math.sqrt(k) * 4, at + " i=" + i);
                }
            }
        }
    }

    @Test
    void columnSumsEqualScalarBitForBit() {
        Random r = new Random(9);
        for (int[] s : new int[][] {{1, 1}, {3, 7}, {17, 8}, {5, 33}, {4096, 384}, {130, 67}, {2, 200}}) {
            int rows = s[0], cols = s[1], ld = cols + 5;
            float[] x = rand(r, 2 + rows * ld), out1 = rand(r, cols + 3), out2 = out1.clone();
            ref.addColumnSums(x, 2, rows, cols, ld, out1, 3);
            fast.addColumnSums(x, 2, rows, cols, ld, out2, 3);
            assertArrayEquals(out1, out2, rows + " x " + cols);
            // And the definition, in double: the column's sum added to what was there.
            float[] before = out1.clone();
            ref.addColumnSums(x, 2, rows, cols, ld, before, 3);
            for (int j = 0; j < cols; j++) {
                double sum = 0;
                for (int i = 0; i < rows; i++) sum += x[2 + i * ld + j];
                assertEquals(out1[3 + j] + sum, before[3 + j], 1e-4 * Math.max(1, rows / 64.0), "column " + j);
            }
        }
    }

    @Test
    void softmaxMatchesScalarWithAndWithoutMask() {
        Random r = new Random(8);
        for (int n : new int[] {1, 7, 16, 33, 128, 385}) {
            float[] x = rand(r, n + 2), mask = new float[n + 1];
            for (int i = 0; i < mask.length; i++) mask[i] = r.nextInt(4) == 0 ? -Float.MAX_VALUE : 0f;
            mask[1] = 0f;
            for (float[] mk : new float[][] {null, mask}) {
                float[] a = x.clone(), b = x.clone();
                ref.softmax(a, 2, n, 0.17f, mk, 1);
                fast.softmax(b, 2, n, 0.17f, mk, 1);
                for (int i = 0; i < a.length; i++) assertEquals(a[i], b[i], 2e-7f, "n=" + n + " i=" + i);
            }
        }
    }

    /** The mask re-applied: bit-equal to the scalar reference, in place and copying, at offsets and odd lengths. */
    @Test
    void applyMaskMatchesScalar() {
        Random r = new Random(31);
        for (int n : new int[] {1, 7, 8, 33, 128, 385}) {
            float[] src = new float[n + 5];
            boolean[] keep = new boolean[n + 3];
            for (int i = 0; i < src.length; i++) src[i] = (float) r.nextGaussian();
            for (int i = 0; i < keep.length; i++) keep[i] = r.nextFloat() >= 0.3f;
            float[] a = new float[n + 2], b = new float[n + 2];
            ref.applyMask(src, 5, a, 2, n, keep, 3, 1 / 0.7f);
            fast.applyMask(src, 5, b, 2, n, keep, 3, 1 / 0.7f);
            assertArrayEquals(a, b, "copy, n=" + n);
            float[] c = src.clone(), d = src.clone();
            ref.applyMask(c, 4, c, 4, n, keep, 0, 2f);
            fast.applyMask(d, 4, d, 4, n, keep, 0, 2f);
            assertArrayEquals(c, d, "in place, n=" + n);
        }
    }

    /** Attention's softmax backward (dropout undone first, or none) against the scalar reference's double sum. */
    @Test
    void softmaxBackwardMatchesScalar() {
        Random r = new Random(32);
        for (int n : new int[] {1, 5, 8, 31, 128, 385}) {
            for (boolean dropout : new boolean[] {false, true}) {
                float[] p = new float[n + 4], d = new float[n + 1];
                for (int i = 0; i < p.length; i++) p[i] = r.nextFloat();
                for (int i = 0; i < d.length; i++) d[i] = (float) r.nextGaussian();
                boolean[] keep = new boolean[n + 2];
                for (int i = 0; i < keep.length; i++) keep[i] = r.nextFloat() >= 0.2f;
                float[] a = d.clone(), b = d.clone();
                ref.softmaxBackward(p, 4, a, 1, n, dropout ? keep : null, 2, 1.25f, 0.17f);
                fast.softmaxBackward(p, 4, b, 1, n, dropout ? keep : null, 2, 1.25f, 0.17f);
                float scale = 0;
                for (float v : a) scale = Math.max(scale, Math.abs(v));
                for (int i = 0; i < a.length; i++) assertEquals(a[i], b[i], 1e-6f * (1 + scale) * Math.sqrt(n), "n=" + n + " dropout=" + dropout + " at " + i);
                assertEquals(d[0], b[0], "values before the row are untouched");
            }
        }
    }

    @Test
    void geluMatchesScalar() {
        float[] x = new float[20_003];
        for (int i = 0; i < x.length; i++) x[i] = -10f + 20f * i / x.length;
        float[] a = x.clone(), b = x.clone();
        ref.gelu(a, 3, x.length - 3);
        fast.gelu(b, 3, x.length - 3);
        for (int i = 0; i < x.length; i++) assertEquals(a[i], b[i], 1e-6f * Math.max(1f, Math.abs(a[i])), "x=" + x[i]);
    }

    @Test
    void geluBackwardMatchesScalar() {
        float[] x = new float[20_003], d = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = -10f + 20f * i / x.length;
            d[i] = (float) Math.sin(i);
        }
        float[] a = d.clone(), b = d.clone();
        ref.geluBackward(x, a, 3, x.length - 3);
        fast.geluBackward(x, b, 3, x.length - 3);
        for (int i = 0; i < x.length; i++) assertEquals(a[i], b[i], 1e-6f * Math.max(1f, Math.abs(a[i])), "x=" + x[i]);
    }

    @Test
    void layerNormMatchesScalar() {
        Random r = new Random(9);
        for (int h : new int[] {1, 7, 33, 384, 385}) {
            int rows = 5;
            float[] x = rand(r, rows * h), res = rand(r, rows * h), g = rand(r, h), b = rand(r, h);
            for (float[] residual : new float[][] {null, res}) {
                float[] y1 = new float[rows * h], y2 = new float[rows * h], xh1 = new float[rows * h], xh2 = new float[rows * h];
                float[] s1 = new float[rows], s2 = new float[rows];
                ref.layerNorm(x, residual, 1, rows, h, g, b, 1e-12f, y1, xh1, s1);
                fast.layerNorm(x, residual, 1, rows, h, g, b, 1e-12f, y2, xh2, s2);
                for (int i = 0; i < y1.length; i++) {
                    assertEquals(y1[i], y2[i], 2e-5f, "h=" + h + " i=" + i);
                    assertEquals(xh1[i], xh2[i], 2e-5f, "h=" + h + " i=" + i);
                }
                for (int i = 0; i < rows; i++) assertEquals(s1[i], s2[i], 1e-5f * Math.max(1f, s1[i]), "h=" + h);
                assertEquals(0f, y2[0], "row 0 is outside [1, rows) and must stay untouched");
            }
        }
    }

    @Test
    void layerNormBackwardMatchesScalar() {
        Random r = new Random(10);
        for (int h : new int[] {7, 33, 384}) {
            int rows = 6;
            float[] xhat = rand(r, rows * h), rstd = rand(r, rows), dy = rand(r, rows * h), g = rand(r, h);
            float[] dz1 = new float[rows * h], dz2 = new float[rows * h];
            float[] dg1 = rand(r, h), dg2 = dg1.clone(), db1 = rand(r, h), db2 = db1.clone();
            ref.layerNormBackward(xhat, rstd, dy, 1, rows, h, g, dz1, dg1, db1);
            fast.layerNormBackward(xhat, rstd, dy, 1, rows, h, g, dz2, dg2, db2);
            for (int i = 0; i < dz1.length; i++) assertEquals(dz1[i], dz2[i], 2e-5f, "h=" + h + " i=" + i);
            for (int i = 0; i < h; i++) {
                assertEquals(dg1[i], dg2[i], 2e-5f, "h=" + h);
                assertEquals(db1[i], db2[i], 2e-5f, "h=" + h);
            }
        }
    }

    @Test
    void dropoutGivesTheSameMaskBitsAndValues() {
        Random r = new Random(11);
        long base = dev.bertj.backend.DropoutRng.base(42, 7);
        for (int n : SIZES) {
            for (int first : new int[] {0, 5, 1 << 20}) {
                for (float p : new float[] {0.1f, 0.5f, 0.999f, 1e-7f}) {
                    float[] x1 = rand(r, n + 3), x2 = x1.clone();
                    boolean[] k1 = new boolean[first + n], k2 = new boolean[first + n];
                    ref.dropout(x1, 3, n, p, base, k1, first);
                    fast.dropout(x2, 3, n, p, base, k2, first);
                    org.junit.jupiter.api.Assertions.assertArrayEquals(k1, k2, "n=" + n + " first=" + first + " p=" + p);
                    org.junit.jupiter.api.Assertions.assertArrayEquals(x1, x2, "n=" + n + " first=" + first + " p=" + p);
                    for (int i = 0; i < n; i++) assertEquals(dev.bertj.backend.DropoutRng.keep(base, first + i, p), k2[first + i]);
                }
            }
        }
    }
}
