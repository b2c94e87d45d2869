package dev.bertj.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API GEMM: {@code C = A B (+ bias)} or {@code C += A B}, on strided views, in the
 * GotoBLAS shape.
 * <pre>
 * B is packed into column panels of NR = 4 vectors (2 on AVX2), each [K][NR] (a Linear weight once,
 * at load); the micro-kernel keeps a 6 x NR tile of C in 24 (12) vector registers: per k, 4 (2) loads
 * of B, 6 broadcasts of A straight from its rows (or columns), 24 (12) FMAs, and no lane reduction.
 * </pre>
 * Loops: K in blocks of 384, then panels in groups whose packed B fits in L2, then 96-row blocks,
 * so a B panel streams from L2 across a block while A's six rows stream from L1. Packing A as well
 * measured slower: for K = 1536 the copy cost more than the broadcasts it made contiguous. Every
 * output element is the same FMA chain whatever the thread count, so results are reproducible.
 * Edge tiles run the same kernel into a scratch tile, then copy what lies inside C.
 *
 * <p>The micro-kernel is one straight method on purpose: passing vectors to a helper that C2
 * compiles separately boxes them, which measured 14x slower.
 */
final class VectorGemm {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    static final int MR = L >= 16 ? 6 : 4;
    /**
     * 512-bit vectors come with 32 registers (AVX-512): a 6 x 4-vector tile (24 accumulators, 4 B
     * loads, 1 broadcast) fits. 256-bit AVX2 has 16: the same tile spilled every FMA's operands to
     * the stack and ran at 40% of the FMA peak on Zen 3, so it gets BLIS's Haswell/Zen shape,
     * 6 x 2 vectors (12 accumulators, 2 loads, 1 broadcast).
     */
    static final boolean WIDE = L >= 16;
    static final int NR = (WIDE ? 4 : 3) * L;
    /** The narrow kernel's width (one attention head of 32 at 512 bits) and height. */
    static final int HALF = 2 * L, MR_NARROW = 12;
    /** Micro-panels of A per L2 block (96 rows). */
    /** K block: a 6 x KC panel of A and KC x NR of B stay close to the core; C absorbs the partial sums. */
    private static final int KC = 384;
    private static final int BLOCK_MICRO_ROWS = 16;
    /** The largest B (K x N floats, 256 KiB) {@link #slim} packs whole: it keeps all of it close to the core. */
    private static final int SLIM_B_FLOATS = 1 << 16;
    /** From this many rows of A on, a row-major B is copied into panels rather than read in place. */
    private static final int PACK_B_ROWS = 1024;
    /** Floats of packed B kept hot in L2 per panel group (512 KiB). */
    private static final int L2_B_FLOATS = 1 << 17;
    private static final float[] ZERO_BIAS = new float[NR];
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[3][]);

    private VectorGemm() { }

    /** Size of {@link #packB}'s output for a K x N matrix. */
    static int packedSize(int k, int n) {
        return panels(n) * k * NR;
    }

    static int panels(int n) {
        return (n + NR - 1) / NR;
    }

    /** Packs {@code B(kk, j) = b[off + kk * rs + j * cs]} (K x N) into zero-padded panels. */
    static void packB(float[] b, int off, int rs, int cs, int k, int n, float[] dst) {
        int panels = panels(n);
        for (int p = 0; p < panels; p++) {
            int j0 = p * NR, w = Math.min(NR, n - j0), base = p * k * NR;
            if (cs == 1) {
                for (int kk = 0; kk < k; kk++) {
                    int d = base + kk * NR;
                    System.arraycopy(b, off + kk * rs + j0, dst, d, w);
                    if (w < NR) java.util.Arrays.fill(dst, d + w, d + NR, 0f);
                }
            } else {
                for (int j = 0; j < NR; j++) {
                    if (j >= w) {
                        for (int kk = 0; kk < k; kk++) dst[base + kk * NR + j] = 0f;
                        continue;
                    }
                    int src = off + (j0 + j) * cs;
                    for (int kk = 0; kk < k; kk++) dst[base + kk * NR + j] = b[src + kk * rs];
                }
            }
        }
    }

    private static float[] scratch(int slot, int size) {
        float[][] s = SCRATCH.get();
        if (s[slot] == null || s[slot].length < size) s[slot] = new float[Math.max(size, s[slot] == null ? 0 : s[slot].length * 3 / 2)];
        return s[slot];
    }

    /**
     * {@code C = A B + bias} (bias may be null) or, with {@code accumulate}, {@code C += A B}, where
     * {@code A(i, kk) = a[aOff + i * ars + kk * acs]} is M x K, {@code B(kk, j) = b[bOff + kk * brs + j * bcs]}
     * is K x N and C is row-major with row stride {@code ldc}.
     */
    static void gemm(int m, int n, int k, float[] a, int aOff, int ars, int acs, float[] b, int bOff, int brs, int bcs,
                     float[] c, int cOff, int ldc, float[] bias, boolean accumulate) {
        if (m == 0 || n == 0) return;
        if (WIDE && n <= HALF && k > 0) {
            narrow(m, n, k, a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, ldc, bias, accumulate);
            return;
        }
        if (!WIDE && n % HALF == 0 && n % NR != 0 && bias == null && k > 0 && (long) k * n <= SLIM_B_FLOATS
                && (!Parallel.available() || (long) m * n * k < 1 << 17)) {
            slim(m, n, k, a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, ldc, accumulate);
            return;
        }
        if (bcs == 1 && n % NR == 0 && m < PACK_B_ROWS) {
            // Row-major B whose rows are whole panels (x in dW = dy^T x): read it in place, as
            // panels with row stride brs, instead of copying it. With many rows of A (dx = dy W at
            // 32 x 128 tokens) the copy pays for itself: contiguous panels ran 15-20% faster.
            run(m, n, k, a, aOff, ars, acs, b, bOff, NR, brs, c, cOff, ldc, bias, accumulate, false);
            return;
        }
        float[] bp = scratch(0, packedSize(k, n));
        packB(b, bOff, brs, bcs, k, n, bp);
        gemmPacked(m, n, k, a, aOff, ars, acs, bp, c, cOff, ldc, bias, accumulate, false);
    }

    /** As {@link #gemm} with B already packed by {@link #packB}. */
    static void gemmPacked(int m, int n, int k, float[] a, int aOff, int ars, int acs, float[] bp,
                           float[] c, int cOff, int ldc, float[] bias, boolean accumulate, boolean gelu) {
        run(m, n, k, a, aOff, ars, acs, bp, 0, k * NR, NR, c, cOff, ldc, bias, accumulate, gelu);
    }

    /** B as panels: panel p's row kk starts at {@code b[bOff + p * panelStride + kk * ldb]}. */
    private static void run(int m, int n, int k, float[] a, int aOff, int ars, int acs, float[] bp, int bOff, int panelStride, int ldb,
                            float[] c, int cOff, int ldc, float[] bias, boolean accumulate, boolean gelu) {
        if (m == 0 || n == 0) return;
        if (k == 0) {
            if (!accumulate) {
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) c[cOff + i * ldc + j] = bias == null ? 0f : bias[j];
                }
            }
            return;
        }
        int microRows = (m + MR - 1) / MR;
        int t = Parallel.available() ? Parallel.threads() : 1;
        // Enough FLOPs to pay for a hand-off (~a few us)?
        if ((long) m * n * k < 1 << 17) t = 1;
        if (acs == 1) {
            split(t, m, n, k, a, aOff, ars, acs, null, bp, bOff, panelStride, ldb, c, cOff, ldc, bias, accumulate, gelu);
            return;
        }
        // A read down its columns (dW = dy^T x) would touch a cache line per k for six floats: it is
        // copied into [kc][MR] micro-panels once per K block, for all tasks (each task packing what it
        // reads repeated the copy in every slice of panels).
        int kcMax = Math.min(KC, k);
        float[] ap = scratch(1, microRows * MR * kcMax);
        for (int k0 = 0; k0 < k; k0 += KC) {
            int kc = Math.min(KC, k - k0), from = k0;
            int slices = Math.min(microRows, 4 * t);
            if (t == 1) packA(a, aOff, ars, acs, m, 0, microRows, from, kc, ap, 0);
            else Parallel.forEach(slices, i -> packA(a, aOff, ars, acs, m, microRows * i / slices, microRows * (i + 1) / slices, from, kc, ap,
                    microRows * i / slices * MR * kc));
            // Later K blocks add to what the first one stored (which carried the bias).
            split(t, m, n, kc, a, 0, 0, 0, ap, bp, bOff + k0 * ldb, panelStride, ldb, c, cOff, ldc,
                    k0 == 0 ? bias : null, accumulate || k0 > 0, gelu && k0 + kc == k);
        }
    }

    /**
     * Spreads a GEMM over {@code t} threads by rows or by panels of B. With {@code ap} non-null, A is
     * already packed ({@code k <= KC}): micro-row {@code mr}'s panel starts at {@code ap[mr * MR * k]}.
     */
    private static void split(int t, int m, int n, int k, float[] a, int aOff, int ars, int acs, float[] ap, float[] bp, int bOff,
                              int panelStride, int ldb, float[] c, int cOff, int ldc, float[] bias, boolean accumulate, boolean gelu) {
        int microRows = (m + MR - 1) / MR, panels = panels(n);
        if (t == 1) {
            block(m, n, k, a, aOff, ars, acs, ap, bp, bOff, panelStride, ldb, c, cOff, ldc, bias, accumulate, gelu, 0, microRows, 0, panels);
        } else if (microRows >= 4 * t && (m >= n || panels < 2 * t)) {
            // Splitting rows, each thread streams all of B and its share of A; splitting panels,
            // all of A and its share of B. Rows win when A is the larger (M >= N): batch 32 x 128.
            // At batch 1 (M = 128 < N) the panel split halves each core's trips through the weights.
            // Several blocks of rows per thread, handed out as threads free up: a core that is
            // slowed (by the OS, a neighbour) no longer holds the others at the join.
            int tasks = Math.max(t, Math.min(microRows / BLOCK_MICRO_ROWS, 4 * t));
            Parallel.forEach(tasks, i -> block(m, n, k, a, aOff, ars, acs, ap, bp, bOff, panelStride, ldb, c, cOff, ldc, bias, accumulate, gelu,
                    microRows * i / tasks, microRows * (i + 1) / tasks, 0, panels));
        } else {
            // As with rows, several slices per thread, taken as threads free up: at batch 1 a
            // static half each left one core waiting whenever the other was preempted.
            int tasks = Math.min(4 * t, panels);
            Parallel.forEach(tasks, i -> block(m, n, k, a, aOff, ars, acs, ap, bp, bOff, panelStride, ldb, c, cOff, ldc, bias, accumulate, gelu,
                    0, microRows, panels * i / tasks, panels * (i + 1) / tasks));
        }
    }

    /** Micro-rows {@code [mr0, mr1)} by panels {@code [p0, p1)}: one task's share. */
    private static void block(int m, int n, int k, float[] a, int aOff, int ars, int acs, float[] shared, float[] bp, int bBase, int panelStride,
                              int ldb, float[] c, int cOff, int ldc, float[] bias, boolean accumulate, boolean gelu,
                              int mr0, int mr1, int p0, int p1) {
        if (mr0 >= mr1 || p0 >= p1) return;
        float[] tile = scratch(2, MR * NR);
        // A is either read in place (row-major) or was packed by run for all tasks ([k][MR] micro-panels).
        boolean packA = shared != null;
        if (!packA && acs != 1) throw new IllegalStateException("A read down its columns must be packed by run");
        for (int k0 = 0; k0 < k; k0 += KC) {
            int kc = Math.min(KC, k - k0);
            // Later K blocks add to what the first one stored (which carried the bias).
            boolean acc = accumulate || k0 > 0;
            float[] bs = bias == null || k0 > 0 ? null : bias;
            int group = Math.max(1, L2_B_FLOATS / (kc * NR));
            for (int g0 = p0; g0 < p1; g0 += group) {
                int g1 = Math.min(p1, g0 + group);
                for (int b0 = mr0; b0 < mr1; b0 += BLOCK_MICRO_ROWS) {
                    int b1 = Math.min(mr1, b0 + BLOCK_MICRO_ROWS);
                    for (int p = g0; p < g1; p++) {
                        int col = p * NR, bOff = bBase + p * panelStride + k0 * ldb;
                        boolean fullCols = col + NR <= n;
                        for (int mr = b0; mr < b1; mr++) {
                            int row = mr * MR;
                            float[] aa = packA ? shared : a;
                            int aAt = packA ? mr * MR * kc : aOff + row * ars + k0 * acs;
                            int rs = packA ? 1 : ars, cs = packA ? MR : acs;
                            if (fullCols && row + MR <= m) {
                                tile(kc, aa, aAt, rs, cs, MR, bp, bOff, ldb, c, cOff + row * ldc + col, ldc,
                                        bs == null ? ZERO_BIAS : bs, bs == null ? 0 : col, acc);
                            } else {
                                edge(kc, aa, aAt, rs, cs, bp, bOff, ldb, tile, c, cOff, ldc, m, n, row, col, bs, acc);
                            }
                            if (gelu && k0 + kc == k) {
                                // The finished tile is still in L1: activate it now, not in another pass over C.
                                int cols = Math.min(NR, n - col);
                                for (int r = row, end = Math.min(m, row + MR); r < end; r++) VectorKernels.geluInPlace(c, cOff + r * ldc + col, cols);
                            }
                        }
                    }
                }
            }
        }
    }

    /** Rows {@code [mr0 * MR, mr1 * MR)}, columns {@code [k0, k0 + kc)} of A into zero-padded [kc][MR] micro-panels from {@code dst[dstOff]}. */
    private static void packA(float[] a, int aOff, int ars, int acs, int m, int mr0, int mr1, int k0, int kc, float[] dst, int dstOff) {
        for (int mr = mr0; mr < mr1; mr++) {
            int base = dstOff + (mr - mr0) * MR * kc, row = mr * MR, valid = Math.min(MR, m - row);
            for (int kk = 0; kk < kc; kk++) {
                int src = aOff + row * ars + (k0 + kk) * acs, d = base + kk * MR;
                for (int r = 0; r < valid; r++) dst[d + r] = a[src + r * ars];
                for (int r = valid; r < MR; r++) dst[d + r] = 0f;
            }
        }
    }

    /** A tile that sticks out of C: the same kernel into a scratch tile, then the part inside C. */
    private static void edge(int kc, float[] a, int aAt, int ars, int acs, float[] bp, int bOff, int ldb, float[] tile, float[] c, int cOff, int ldc,
                             int m, int n, int row, int col, float[] bias, boolean accumulate) {
        int rows = Math.min(MR, m - row), cols = Math.min(NR, n - col);
        tile(kc, a, aAt, ars, acs, rows, bp, bOff, ldb, tile, 0, NR, ZERO_BIAS, 0, false);
        merge(tile, NR, rows, cols, c, cOff + row * ldc + col, ldc, bias, col, accumulate);
    }

    /** The {@code rows x cols} corner of a scratch tile into C: added, or stored plus the bias. */
    private static void merge(float[] tile, int width, int rows, int cols, float[] c, int cAt, int ldc,
                              float[] bias, int biasOff, boolean accumulate) {
        for (int r = 0; r < rows; r++) {
            int o = cAt + r * ldc;
            for (int j = 0; j < cols; j++) {
                float v = tile[r * width + j];
                if (accumulate) c[o + j] += v;
                else c[o + j] = bias == null ? v : v + bias[biasOff + j];
            }
        }
    }

    /** The register tile this CPU's vectors allow: 6 x 4 vectors with 32 registers, 6 x 2 with 16. */
    private static void tile(int k, float[] a, int aOff, int ars, int acs, int rows, float[] bp, int bOff, int ldb,
                             float[] c, int cOff, int ldc, float[] bias, int biasOff, boolean accumulate) {
        if (WIDE) kernel(k, a, aOff, ars, acs, rows, bp, bOff, ldb, c, cOff, ldc, bias, biasOff, accumulate);
        else kernel2(k, a, aOff, ars, acs, rows, bp, bOff, ldb, c, cOff, ldc, bias, biasOff, accumulate);
    }

    /** The 4 x 3-vector register tile over all of K, for 16-register (AVX2) CPUs; otherwise as {@link #kernel}. */
    private static void kernel2(int k, float[] a, int aOff, int ars, int acs, int rows, float[] bp, int bOff, int ldb,
                                float[] c, int cOff, int ldc, float[] bias, int biasOff, boolean accumulate) {
        int r1 = Math.min(1, rows - 1) * ars, r2 = Math.min(2, rows - 1) * ars, r3 = Math.min(3, rows - 1) * ars;
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z, c01 = z, c02 = z, c10 = z, c11 = z, c12 = z;
        FloatVector c20 = z, c21 = z, c22 = z, c30 = z, c31 = z, c32 = z;
        for (int kk = 0, ai = aOff, bi = bOff; kk < k; kk++, ai += acs, bi += ldb) {
            FloatVector b0 = FloatVector.fromArray(F, bp, bi), b1 = FloatVector.fromArray(F, bp, bi + L), b2 = FloatVector.fromArray(F, bp, bi + 2 * L);
            FloatVector x = FloatVector.broadcast(F, a[ai]);
            c00 = x.fma(b0, c00); c01 = x.fma(b1, c01); c02 = x.fma(b2, c02);
            x = FloatVector.broadcast(F, a[ai + r1]);
            c10 = x.fma(b0, c10); c11 = x.fma(b1, c11); c12 = x.fma(b2, c12);
            x = FloatVector.broadcast(F, a[ai + r2]);
            c20 = x.fma(b0, c20); c21 = x.fma(b1, c21); c22 = x.fma(b2, c22);
            x = FloatVector.broadcast(F, a[ai + r3]);
            c30 = x.fma(b0, c30); c31 = x.fma(b1, c31); c32 = x.fma(b2, c32);
        }
        int o0 = cOff, o1 = cOff + ldc, o2 = cOff + 2 * ldc, o3 = cOff + 3 * ldc;
        if (accumulate) {
            FloatVector.fromArray(F, c, o0).add(c00).intoArray(c, o0); FloatVector.fromArray(F, c, o0 + L).add(c01).intoArray(c, o0 + L);
            FloatVector.fromArray(F, c, o0 + 2 * L).add(c02).intoArray(c, o0 + 2 * L);
            FloatVector.fromArray(F, c, o1).add(c10).intoArray(c, o1); FloatVector.fromArray(F, c, o1 + L).add(c11).intoArray(c, o1 + L);
            FloatVector.fromArray(F, c, o1 + 2 * L).add(c12).intoArray(c, o1 + 2 * L);
            FloatVector.fromArray(F, c, o2).add(c20).intoArray(c, o2); FloatVector.fromArray(F, c, o2 + L).add(c21).intoArray(c, o2 + L);
            FloatVector.fromArray(F, c, o2 + 2 * L).add(c22).intoArray(c, o2 + 2 * L);
            FloatVector.fromArray(F, c, o3).add(c30).intoArray(c, o3); FloatVector.fromArray(F, c, o3 + L).add(c31).intoArray(c, o3 + L);
            FloatVector.fromArray(F, c, o3 + 2 * L).add(c32).intoArray(c, o3 + 2 * L);
        } else {
            FloatVector d0 = FloatVector.fromArray(F, bias, biasOff), d1 = FloatVector.fromArray(F, bias, biasOff + L);
            FloatVector d2 = FloatVector.fromArray(F, bias, biasOff + 2 * L);
            c00.add(d0).intoArray(c, o0); c01.add(d1).intoArray(c, o0 + L); c02.add(d2).intoArray(c, o0 + 2 * L);
            c10.add(d0).intoArray(c, o1); c11.add(d1).intoArray(c, o1 + L); c12.add(d2).intoArray(c, o1 + 2 * L);
            c20.add(d0).intoArray(c, o2); c21.add(d1).intoArray(c, o2 + L); c22.add(d2).intoArray(c, o2 + 2 * L);
            c30.add(d0).intoArray(c, o3); c31.add(d1).intoArray(c, o3 + L); c32.add(d2).intoArray(c, o3 + 2 * L);
        }
    }

    /** The 6 x NR register tile over all of K: {@code C = acc + bias} or {@code C += acc}. */
    private static void kernel(int k, float[] a, int aOff, int ars, int acs, int rows, float[] bp, int bOff, int ldb,
                               float[] c, int cOff, int ldc, float[] bias, int biasOff, boolean accumulate) {
        // Rows past the matrix re-read its last row (edge tiles only store the valid ones).
        int r1 = Math.min(1, rows - 1) * ars, r2 = Math.min(2, rows - 1) * ars, r3 = Math.min(3, rows - 1) * ars;
        int r4 = Math.min(4, rows - 1) * ars, r5 = Math.min(5, rows - 1) * ars;
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z, c01 = z, c02 = z, c03 = z;
        FloatVector c10 = z, c11 = z, c12 = z, c13 = z;
        FloatVector c20 = z, c21 = z, c22 = z, c23 = z;
        FloatVector c30 = z, c31 = z, c32 = z, c33 = z;
        FloatVector c40 = z, c41 = z, c42 = z, c43 = z;
        FloatVector c50 = z, c51 = z, c52 = z, c53 = z;
        for (int kk = 0, ai = aOff, bi = bOff; kk < k; kk++, ai += acs, bi += ldb) {
            FloatVector b0 = FloatVector.fromArray(F, bp, bi), b1 = FloatVector.fromArray(F, bp, bi + L);
            FloatVector b2 = FloatVector.fromArray(F, bp, bi + 2 * L), b3 = FloatVector.fromArray(F, bp, bi + 3 * L);
            FloatVector x = FloatVector.broadcast(F, a[ai]);
            c00 = x.fma(b0, c00); c01 = x.fma(b1, c01); c02 = x.fma(b2, c02); c03 = x.fma(b3, c03);
            x = FloatVector.broadcast(F, a[ai + r1]);
            c10 = x.fma(b0, c10); c11 = x.fma(b1, c11); c12 = x.fma(b2, c12); c13 = x.fma(b3, c13);
            x = FloatVector.broadcast(F, a[ai + r2]);
            c20 = x.fma(b0, c20); c21 = x.fma(b1, c21); c22 = x.fma(b2, c22); c23 = x.fma(b3, c23);
            x = FloatVector.broadcast(F, a[ai + r3]);
            c30 = x.fma(b0, c30); c31 = x.fma(b1, c31); c32 = x.fma(b2, c32); c33 = x.fma(b3, c33);
            x = FloatVector.broadcast(F, a[ai + r4]);
            c40 = x.fma(b0, c40); c41 = x.fma(b1, c41); c42 = x.fma(b2, c42); c43 = x.fma(b3, c43);
            x = FloatVector.broadcast(F, a[ai + r5]);
            c50 = x.fma(b0, c50); c51 = x.fma(b1, c51); c52 = x.fma(b2, c52); c53 = x.fma(b3, c53);
        }
        if (accumulate) {
            int o0 = cOff;
            FloatVector.fromArray(F, c, o0).add(c00).intoArray(c, o0);
            FloatVector.fromArray(F, c, o0 + L).add(c01).intoArray(c, o0 + L);
            FloatVector.fromArray(F, c, o0 + 2 * L).add(c02).intoArray(c, o0 + 2 * L);
            FloatVector.fromArray(F, c, o0 + 3 * L).add(c03).intoArray(c, o0 + 3 * L);
            int o1 = cOff + 1 * ldc;
            FloatVector.fromArray(F, c, o1).add(c10).intoArray(c, o1);
            FloatVector.fromArray(F, c, o1 + L).add(c11).intoArray(c, o1 + L);
            FloatVector.fromArray(F, c, o1 + 2 * L).add(c12).intoArray(c, o1 + 2 * L);
            FloatVector.fromArray(F, c, o1 + 3 * L).add(c13).intoArray(c, o1 + 3 * L);
            int o2 = cOff + 2 * ldc;
            FloatVector.fromArray(F, c, o2).add(c20).intoArray(c, o2);
            FloatVector.fromArray(F, c, o2 + L).add(c21).intoArray(c, o2 + L);
            FloatVector.fromArray(F, c, o2 + 2 * L).add(c22).intoArray(c, o2 + 2 * L);
            FloatVector.fromArray(F, c, o2 + 3 * L).add(c23).intoArray(c, o2 + 3 * L);
            int o3 = cOff + 3 * ldc;
            FloatVector.fromArray(F, c, o3).add(c30).intoArray(c, o3);
            FloatVector.fromArray(F, c, o3 + L).add(c31).intoArray(c, o3 + L);
            FloatVector.fromArray(F, c, o3 + 2 * L).add(c32).intoArray(c, o3 + 2 * L);
            FloatVector.fromArray(F, c, o3 + 3 * L).add(c33).intoArray(c, o3 + 3 * L);
            int o4 = cOff + 4 * ldc;
            FloatVector.fromArray(F, c, o4).add(c40).intoArray(c, o4);
            FloatVector.fromArray(F, c, o4 + L).add(c41).intoArray(c, o4 + L);
            FloatVector.fromArray(F, c, o4 + 2 * L).add(c42).intoArray(c, o4 + 2 * L);
            FloatVector.fromArray(F, c, o4 + 3 * L).add(c43).intoArray(c, o4 + 3 * L);
            int o5 = cOff + 5 * ldc;
            FloatVector.fromArray(F, c, o5).add(c50).intoArray(c, o5);
            FloatVector.fromArray(F, c, o5 + L).add(c51).intoArray(c, o5 + L);
            FloatVector.fromArray(F, c, o5 + 2 * L).add(c52).intoArray(c, o5 + 2 * L);
            FloatVector.fromArray(F, c, o5 + 3 * L).add(c53).intoArray(c, o5 + 3 * L);
        } else {
            FloatVector d0 = FloatVector.fromArray(F, bias, biasOff), d1 = FloatVector.fromArray(F, bias, biasOff + L);
            FloatVector d2 = FloatVector.fromArray(F, bias, biasOff + 2 * L), d3 = FloatVector.fromArray(F, bias, biasOff + 3 * L);
            int o0 = cOff;
            c00.add(d0).intoArray(c, o0); c01.add(d1).intoArray(c, o0 + L); c02.add(d2).intoArray(c, o0 + 2 * L); c03.add(d3).intoArray(c, o0 + 3 * L);
            int o1 = cOff + 1 * ldc;
            c10.add(d0).intoArray(c, o1); c11.add(d1).intoArray(c, o1 + L); c12.add(d2).intoArray(c, o1 + 2 * L); c13.add(d3).intoArray(c, o1 + 3 * L);
            int o2 = cOff + 2 * ldc;
            c20.add(d0).intoArray(c, o2); c21.add(d1).intoArray(c, o2 + L); c22.add(d2).intoArray(c, o2 + 2 * L); c23.add(d3).intoArray(c, o2 + 3 * L);
            int o3 = cOff + 3 * ldc;
            c30.add(d0).intoArray(c, o3); c31.add(d1).intoArray(c, o3 + L); c32.add(d2).intoArray(c, o3 + 2 * L); c33.add(d3).intoArray(c, o3 + 3 * L);
            int o4 = cOff + 4 * ldc;
            c40.add(d0).intoArray(c, o4); c41.add(d1).intoArray(c, o4 + L); c42.add(d2).intoArray(c, o4 + 2 * L); c43.add(d3).intoArray(c, o4 + 3 * L);
            int o5 = cOff + 5 * ldc;
            c50.add(d0).intoArray(c, o5); c51.add(d1).intoArray(c, o5 + L); c52.add(d2).intoArray(c, o5 + 2 * L); c53.add(d3).intoArray(c, o5 + 3 * L);
        }
    }

    /**
     * N of at most two vectors (P v for one attention head): a 12 x 2-vector tile instead of
     * wasting half of the wide one. Serial: these run inside the per-head parallel loop.
     */
    private static void narrow(int m, int n, int k, float[] a, int aOff, int ars, int acs, float[] b, int bOff, int brs, int bcs,
                               float[] c, int cOff, int ldc, float[] bias, boolean accumulate) {
        float[] bp = scratch(0, k * HALF);
        for (int kk = 0; kk < k; kk++) {
            for (int j = 0; j < HALF; j++) bp[kk * HALF + j] = j < n ? b[bOff + kk * brs + j * bcs] : 0f;
        }
        float[] tile = scratch(2, MR_NARROW * HALF);
        for (int row = 0; row < m; row += MR_NARROW) {
            int rows = Math.min(MR_NARROW, m - row);
            int aAt = aOff + row * ars;
            if (rows == MR_NARROW && n == HALF && bias == null) {
                kernelNarrow(k, a, aAt, ars, acs, rows, bp, 0, c, cOff + row * ldc, ldc, accumulate);
                continue;
            }
            kernelNarrow(k, a, aAt, ars, acs, rows, bp, 0, tile, 0, HALF, false);
            merge(tile, HALF, rows, n, c, cOff + row * ldc, ldc, bias, 0, accumulate);
        }
    }

    /** The 12 x 2-vector register tile over all of K. */
    private static void kernelNarrow(int k, float[] a, int aOff, int ars, int acs, int rows, float[] bp, int bOff,
                                     float[] c, int cOff, int ldc, boolean accumulate) {
        FloatVector z = FloatVector.zero(F);
        FloatVector c000 = z, c001 = z;
        FloatVector c010 = z, c011 = z;
        FloatVector c020 = z, c021 = z;
        FloatVector c030 = z, c031 = z;
        FloatVector c040 = z, c041 = z;
        FloatVector c050 = z, c051 = z;
        FloatVector c060 = z, c061 = z;
        FloatVector c070 = z, c071 = z;
        FloatVector c080 = z, c081 = z;
        FloatVector c090 = z, c091 = z;
        FloatVector c100 = z, c101 = z;
        FloatVector c110 = z, c111 = z;
        int r1 = Math.min(1, rows - 1) * ars, r2 = Math.min(2, rows - 1) * ars, r3 = Math.min(3, rows - 1) * ars, r4 = Math.min(4, rows - 1) * ars, r5 = Math.min(5, rows - 1) * ars, r6 = Math.min(6, rows - 1) * ars, r7 = Math.min(7, rows - 1) * ars, r8 = Math.min(8, rows - 1) * ars, r9 = Math.min(9, rows - 1) * ars, r10 = Math.min(10, rows - 1) * ars, r11 = Math.min(11, rows - 1) * ars;
        for (int kk = 0, ai = aOff, bi = bOff; kk < k; kk++, ai += acs, bi += HALF) {
            FloatVector b0 = FloatVector.fromArray(F, bp, bi), b1 = FloatVector.fromArray(F, bp, bi + L);
            FloatVector x = FloatVector.broadcast(F, a[ai]);
            c000 = x.fma(b0, c000); c001 = x.fma(b1, c001);
            x = FloatVector.broadcast(F, a[ai + r1]);
            c010 = x.fma(b0, c010); c011 = x.fma(b1, c011);
            x = FloatVector.broadcast(F, a[ai + r2]);
            c020 = x.fma(b0, c020); c021 = x.fma(b1, c021);
            x = FloatVector.broadcast(F, a[ai + r3]);
            c030 = x.fma(b0, c030); c031 = x.fma(b1, c031);
            x = FloatVector.broadcast(F, a[ai + r4]);
            c040 = x.fma(b0, c040); c041 = x.fma(b1, c041);
            x = FloatVector.broadcast(F, a[ai + r5]);
            c050 = x.fma(b0, c050); c051 = x.fma(b1, c051);
            x = FloatVector.broadcast(F, a[ai + r6]);
            c060 = x.fma(b0, c060); c061 = x.fma(b1, c061);
            x = FloatVector.broadcast(F, a[ai + r7]);
            c070 = x.fma(b0, c070); c071 = x.fma(b1, c071);
            x = FloatVector.broadcast(F, a[ai + r8]);
            c080 = x.fma(b0, c080); c081 = x.fma(b1, c081);
            x = FloatVector.broadcast(F, a[ai + r9]);
            c090 = x.fma(b0, c090); c091 = x.fma(b1, c091);
            x = FloatVector.broadcast(F, a[ai + r10]);
            c100 = x.fma(b0, c100); c101 = x.fma(b1, c101);
            x = FloatVector.broadcast(F, a[ai + r11]);
            c110 = x.fma(b0, c110); c111 = x.fma(b1, c111);
        }
        if (accumulate) {
            FloatVector.fromArray(F, c, cOff).add(c000).intoArray(c, cOff); FloatVector.fromArray(F, c, cOff + L).add(c001).intoArray(c, cOff + L);
            FloatVector.fromArray(F, c, cOff + 1 * ldc).add(c010).intoArray(c, cOff + 1 * ldc); FloatVector.fromArray(F, c, cOff + 1 * ldc + L).add(c011).intoArray(c, cOff + 1 * ldc + L);
            FloatVector.fromArray(F, c, cOff + 2 * ldc).add(c020).intoArray(c, cOff + 2 * ldc); FloatVector.fromArray(F, c, cOff + 2 * ldc + L).add(c021).intoArray(c, cOff + 2 * ldc + L);
            FloatVector.fromArray(F, c, cOff + 3 * ldc).add(c030).intoArray(c, cOff + 3 * ldc); FloatVector.fromArray(F, c, cOff + 3 * ldc + L).add(c031).intoArray(c, cOff + 3 * ldc + L);
            FloatVector.fromArray(F, c, cOff + 4 * ldc).add(c040).intoArray(c, cOff + 4 * ldc); FloatVector.fromArray(F, c, cOff + 4 * ldc + L).add(c041).intoArray(c, cOff + 4 * ldc + L);
            FloatVector.fromArray(F, c, cOff + 5 * ldc).add(c050).intoArray(c, cOff + 5 * ldc); FloatVector.fromArray(F, c, cOff + 5 * ldc + L).add(c051).intoArray(c, cOff + 5 * ldc + L);
            FloatVector.fromArray(F, c, cOff + 6 * ldc).add(c060).intoArray(c, cOff + 6 * ldc); FloatVector.fromArray(F, c, cOff + 6 * ldc + L).add(c061).intoArray(c, cOff + 6 * ldc + L);
            FloatVector.fromArray(F, c, cOff + 7 * ldc).add(c070).intoArray(c, cOff + 7 * ldc); FloatVector.fromArray(F, c, cOff + 7 * ldc + L).add(c071).intoArray(c, cOff + 7 * ldc + L);
            FloatVector.fromArray(F, c, cOff + 8 * ldc).add(c080).intoArray(c, cOff + 8 * ldc); FloatVector.fromArray(F, c, cOff + 8 * ldc + L).add(c081).intoArray(c, cOff + 8 * ldc + L);
            FloatVector.fromArray(F, c, cOff + 9 * ldc).add(c090).intoArray(c, cOff + 9 * ldc); FloatVector.fromArray(F, c, cOff + 9 * ldc + L).add(c091).intoArray(c, cOff + 9 * ldc + L);
            FloatVector.fromArray(F, c, cOff + 10 * ldc).add(c100).intoArray(c, cOff + 10 * ldc); FloatVector.fromArray(F, c, cOff + 10 * ldc + L).add(c101).intoArray(c, cOff + 10 * ldc + L);
            FloatVector.fromArray(F, c, cOff + 11 * ldc).add(c110).intoArray(c, cOff + 11 * ldc); FloatVector.fromArray(F, c, cOff + 11 * ldc + L).add(c111).intoArray(c, cOff + 11 * ldc + L);
        } else {
            c000.intoArray(c, cOff); c001.intoArray(c, cOff + L);
            c010.intoArray(c, cOff + 1 * ldc); c011.intoArray(c, cOff + 1 * ldc + L);
            c020.intoArray(c, cOff + 2 * ldc); c021.intoArray(c, cOff + 2 * ldc + L);
            c030.intoArray(c, cOff + 3 * ldc); c031.intoArray(c, cOff + 3 * ldc + L);
            c040.intoArray(c, cOff + 4 * ldc); c041.intoArray(c, cOff + 4 * ldc + L);
            c050.intoArray(c, cOff + 5 * ldc); c051.intoArray(c, cOff + 5 * ldc + L);
            c060.intoArray(c, cOff + 6 * ldc); c061.intoArray(c, cOff + 6 * ldc + L);
            c070.intoArray(c, cOff + 7 * ldc); c071.intoArray(c, cOff + 7 * ldc + L);
            c080.intoArray(c, cOff + 8 * ldc); c081.intoArray(c, cOff + 8 * ldc + L);
            c090.intoArray(c, cOff + 9 * ldc); c091.intoArray(c, cOff + 9 * ldc + L);
            c100.intoArray(c, cOff + 10 * ldc); c101.intoArray(c, cOff + 10 * ldc + L);
            c110.intoArray(c, cOff + 11 * ldc); c111.intoArray(c, cOff + 11 * ldc + L);
        }
    }

    /**
     * AVX2, N a multiple of two vectors but not of the 3-vector panel: one attention head's
     * {@code q k^T} (N = the sequence, 128) and {@code P v} (N = the head, 32). The wide path would
     * compute a last panel of 24 columns for 8 (16 for 32) and copy it out; panels of 16 with a
     * 6 x 2-vector tile (12 accumulators, BLIS's Haswell shape) waste nothing. Serial: these run
     * inside the per-head parallel loop. Each element is still one FMA chain over k in order.
     */
    private static void slim(int m, int n, int k, float[] a, int aOff, int ars, int acs, float[] b, int bOff, int brs, int bcs,
                             float[] c, int cOff, int ldc, boolean accumulate) {
        int panels = n / HALF;
        // Row-major B (v in P v) is read in place, a panel being 16 columns of its rows; otherwise
        // (k^T in q k^T) B is packed into [k][16] panels first.
        boolean inPlace = bcs == 1;
        float[] bp = inPlace ? b : scratch(0, panels * k * HALF);
        int ldb = inPlace ? brs : HALF;
        if (!inPlace) {
            for (int p = 0; p < panels; p++) {
                int base = p * k * HALF, j0 = p * HALF;
                for (int j = 0; j < HALF; j++) {
                    int src = bOff + (j0 + j) * bcs;
                    for (int kk = 0; kk < k; kk++) bp[base + kk * HALF + j] = b[src + kk * brs];
                }
            }
        }
        float[] tile = scratch(2, SLIM_ROWS * HALF);
        for (int p = 0; p < panels; p++) {
            int col = p * HALF, panel = inPlace ? bOff + col : p * k * HALF;
            for (int row = 0; row < m; row += SLIM_ROWS) {
                int rows = Math.min(SLIM_ROWS, m - row), aAt = aOff + row * ars;
                if (rows == SLIM_ROWS) {
                    kernelSlim(k, a, aAt, ars, acs, rows, bp, panel, ldb, c, cOff + row * ldc + col, ldc, accumulate);
                } else {
                    kernelSlim(k, a, aAt, ars, acs, rows, bp, panel, ldb, tile, 0, HALF, false);
                    merge(tile, HALF, rows, HALF, c, cOff + row * ldc + col, ldc, null, 0, accumulate);
                }
            }
        }
    }

    private static final int SLIM_ROWS = 6;

    /** The 6 x 2-vector register tile over all of K ({@link #slim}'s). */
    private static void kernelSlim(int k, float[] a, int aOff, int ars, int acs, int rows, float[] bp, int bOff, int ldb,
                                   float[] c, int cOff, int ldc, boolean accumulate) {
        int r1 = Math.min(1, rows - 1) * ars, r2 = Math.min(2, rows - 1) * ars, r3 = Math.min(3, rows - 1) * ars;
        int r4 = Math.min(4, rows - 1) * ars, r5 = Math.min(5, rows - 1) * ars;
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z, c40 = z, c41 = z, c50 = z, c51 = z;
        for (int kk = 0, ai = aOff, bi = bOff; kk < k; kk++, ai += acs, bi += ldb) {
            FloatVector b0 = FloatVector.fromArray(F, bp, bi), b1 = FloatVector.fromArray(F, bp, bi + L);
            FloatVector x = FloatVector.broadcast(F, a[ai]);
            c00 = x.fma(b0, c00); c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(F, a[ai + r1]);
            c10 = x.fma(b0, c10); c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(F, a[ai + r2]);
            c20 = x.fma(b0, c20); c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(F, a[ai + r3]);
            c30 = x.fma(b0, c30); c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(F, a[ai + r4]);
            c40 = x.fma(b0, c40); c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(F, a[ai + r5]);
            c50 = x.fma(b0, c50); c51 = x.fma(b1, c51);
        }
        int o0 = cOff, o1 = o0 + ldc, o2 = o1 + ldc, o3 = o2 + ldc, o4 = o3 + ldc, o5 = o4 + ldc;
        if (accumulate) {
            c00 = c00.add(FloatVector.fromArray(F, c, o0)); c01 = c01.add(FloatVector.fromArray(F, c, o0 + L));
            c10 = c10.add(FloatVector.fromArray(F, c, o1)); c11 = c11.add(FloatVector.fromArray(F, c, o1 + L));
            c20 = c20.add(FloatVector.fromArray(F, c, o2)); c21 = c21.add(FloatVector.fromArray(F, c, o2 + L));
            c30 = c30.add(FloatVector.fromArray(F, c, o3)); c31 = c31.add(FloatVector.fromArray(F, c, o3 + L));
            c40 = c40.add(FloatVector.fromArray(F, c, o4)); c41 = c41.add(FloatVector.fromArray(F, c, o4 + L));
            c50 = c50.add(FloatVector.fromArray(F, c, o5)); c51 = c51.add(FloatVector.fromArray(F, c, o5 + L));
        }
        c00.intoArray(c, o0); c01.intoArray(c, o0 + L);
        c10.intoArray(c, o1); c11.intoArray(c, o1 + L);
        c20.intoArray(c, o2); c21.intoArray(c, o2 + L);
        c30.intoArray(c, o3); c31.intoArray(c, o3 + L);
        c40.intoArray(c, o4); c41.intoArray(c, o4 + L);
        c50.intoArray(c, o5); c51.intoArray(c, o5 + L);
    }
}
