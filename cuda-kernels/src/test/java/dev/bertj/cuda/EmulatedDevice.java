package dev.bertj.cuda;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@link DeviceApi} in host memory, for running {@link CudaBackend} without a GPU: each kernel is a
 * Java transliteration of its .cu source, launched over the grid it is given (an element a launch
 * does not cover stays unwritten), GEMMs are column-major as cuBLAS. Every launch's arguments are
 * checked against the kernel's C signature in the packaged sources (count and types), every access
 * against the bounds of a live allocation, and row kernels that reduce across a block against
 * blockDim being a multiple of 32. What it cannot check is the CUDA C itself: nvcc compiles it in the
 * build, and the same tests run on a real device when one is present.
 */
final class EmulatedDevice implements DeviceApi {
    private final TreeMap<Long, ByteBuffer> memory = new TreeMap<>();
    private final Precision precision;
    private final Map<String, List<Class<?>>> signatures = signatures();
    private long next = 1 << 16;
    private int launches;

    /** An emulated device whose {@link #gemm} rounds its inputs as cuBLAS's compute type for {@code precision} does. */
    EmulatedDevice(Precision precision) {
        this.precision = precision;
    }

    /** An fp32 device. */
    EmulatedDevice() {
        this(Precision.FP32);
    }

    /** {@code x} with its mantissa rounded to {@code bits} bits (nearest, ties to even), as TF32 (10) and bfloat16 (7) keep. */
    static float round(float x, int bits) {
        int drop = 23 - bits, i = Float.floatToRawIntBits(x);
        if (!Float.isFinite(x)) return x;
        int half = 1 << (drop - 1), lsb = (i >>> drop) & 1;
        i = (i + half - 1 + lsb) & ~((1 << drop) - 1);
        return Float.intBitsToFloat(i);
    }

    private float in(float x) {
        return switch (precision) {
            case FP32 -> x;
            case TF32 -> round(x, 10);
            case BF16 -> round(x, 7);
        };
    }

    /** Live allocations (for leak checks). */
    int liveAllocations() {
        return memory.size();
    }

    /** Kernel launches so far. */
    int launches() {
        return launches;
    }

    private static Map<String, List<Class<?>>> signatures() {
        Map<String, List<Class<?>>> out = new HashMap<>();
        Pattern p = Pattern.compile("extern \"C\" __global__ void (\\w+)\\(([^)]*)\\)", Pattern.DOTALL);
        for (String f : KernelSources.FILES) {
            Matcher m = p.matcher(KernelSources.source(f));
            while (m.find()) {
                List<Class<?>> types = new ArrayList<>();
                for (String param : m.group(2).split(",")) {
                    String t = param.trim().replaceAll("\\s+", " ");
                    if (t.contains("*") || t.startsWith("long long") || t.startsWith("unsigned long long")) types.add(Long.class);
                    else if (t.startsWith("int ")) types.add(Integer.class);
                    else if (t.startsWith("float ")) types.add(Float.class);
                    else throw new IllegalStateException("kernel " + m.group(1) + ": parameter type of '" + t + "' not known to the emulator");
                }
                out.put(m.group(1), types);
            }
        }
        return out;
    }

    // ---- memory ----

    @Override
    public long malloc(long bytes) {
        long a = next;
        next += (Math.max(bytes, 1) + 255) / 256 * 256 + 256;
        memory.put(a, ByteBuffer.allocate((int) Math.max(bytes, 1)).order(ByteOrder.LITTLE_ENDIAN));
        return a;
    }

    @Override
    public void free(long address) {
        if (memory.remove(address) == null) throw new IllegalStateException("free of " + Long.toHexString(address) + ", which is not an allocation");
    }

    private ByteBuffer at(long address, long bytes) {
        if (address == 0) throw new IllegalStateException("null device pointer dereferenced");
        Map.Entry<Long, ByteBuffer> e = memory.floorEntry(address);
        if (e == null || address + bytes > e.getKey() + e.getValue().capacity()) {
            throw new IllegalStateException("device access of " + bytes + " bytes at " + Long.toHexString(address) + " is outside every live allocation");
        }
        return e.getValue();
    }

    private int off(long address) {
        return (int) (address - memory.floorKey(address));
    }

    float f(long address, long i) {
        long a = address + 4 * i;
        return at(a, 4).getFloat(off(a));
    }

    void f(long address, long i, float v) {
        long a = address + 4 * i;
        at(a, 4).putFloat(off(a), v);
    }

    int i32(long address, long i) {
        long a = address + 4 * i;
        return at(a, 4).getInt(off(a));
    }

    byte u8(long address, long i) {
        long a = address + i;
        return at(a, 1).get(off(a));
    }

    void u8(long address, long i, boolean v) {
        long a = address + i;
        at(a, 1).put(off(a), (byte) (v ? 1 : 0));
    }

    @Override
    public void upload(float[] src, long address) {
        for (int i = 0; i < src.length; i++) f(address, i, src[i]);
    }

    @Override
    public void upload(int[] src, long address) {
        for (int i = 0; i < src.length; i++) {
            long a = address + 4L * i;
            at(a, 4).putInt(off(a), src[i]);
        }
    }

    @Override
    public void download(long address, float[] dst) {
        for (int i = 0; i < dst.length; i++) dst[i] = f(address, i);
    }

    @Override
    public void memset(long address, long bytes) {
        ByteBuffer b = at(address, bytes);
        int o = off(address);
        for (int i = 0; i < bytes; i++) b.put(o + i, (byte) 0);
    }

    // ---- GEMMs ----

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, long a, int lda, long b, int ldb, float beta, long c, int ldc) {
        gemm(transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc, precision != Precision.FP32);
    }

    private void gemm(boolean transA, boolean transB, int m, int n, int k, long a, int lda, long b, int ldb, float beta, long c, int ldc,
                      boolean rounded) {
        if (beta != 0f && beta != 1f) throw new IllegalArgumentException("beta " + beta);
        for (int j = 0; j < n; j++) {
            for (int i = 0; i < m; i++) {
                float s = 0f;
                for (int p = 0; p < k; p++) {
                    float av = transA ? f(a, p + (long) i * lda) : f(a, i + (long) p * lda);
                    float bv = transB ? f(b, j + (long) p * ldb) : f(b, p + (long) j * ldb);
                    if (rounded) {
                        av = in(av);
                        bv = in(bv);
                    }
                    s += av * bv;
                }
                long ci = i + (long) j * ldc;
                f(c, ci, beta == 0f ? s : f(c, ci) + s);
            }
        }
    }

    @Override
    public void gemmFp32(boolean transA, boolean transB, int m, int n, int k, long a, int lda, long b, int ldb, float beta, long c, int ldc) {
        gemm(transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc, false);
    }

    @Override
    public void gemmBatched(boolean transA, boolean transB, int m, int n, int k, long a, int lda, long strideA, long b, int ldb, long strideB,
                            float beta, long c, int ldc, long strideC, int count) {
        for (int q = 0; q < count; q++) gemm(transA, transB, m, n, k, a + 4 * q * strideA, lda, b + 4 * q * strideB, ldb, beta, c + 4 * q * strideC, ldc);
    }

    @Override
    public void synchronize() { }

    @Override
    public void close() {
        memory.clear();
    }

    // ---- kernels ----

    private static float erf(float x) {
        return (float) dev.bertj.backend.Activation.erf(x);
    }

    @Override
    public void launch(String kernel, int gx, int gy, int block, Object... args) {
        List<Class<?>> sig = signatures.get(kernel);
        if (sig == null) throw new IllegalStateException("no kernel " + kernel + " in the CUDA sources");
        if (sig.size() != args.length) throw new IllegalStateException(kernel + " takes " + sig.size() + " arguments, launched with " + args.length);
        for (int i = 0; i < args.length; i++) {
            if (args[i] == null || args[i].getClass() != sig.get(i)) {
                throw new IllegalStateException(kernel + " argument " + i + " must be " + sig.get(i).getSimpleName() + ", got "
                        + (args[i] == null ? "null" : args[i].getClass().getSimpleName()));
            }
        }
        if (block < 1 || block > 1024 || gx < 1 || gy < 1 || gy > 65535) throw new IllegalStateException(kernel + ": bad launch " + gx + "x" + gy + " x " + block);
        launches++;
        Kernels.run(this, kernel, gx, gy, block, args);
    }

    /** The kernels, one method each, as in src/main/cuda. */
    private static final class Kernels {
        static long L(Object o) { return (Long) o; }
        static int I(Object o) { return (Integer) o; }
        static float F(Object o) { return (Float) o; }

        static void needWarps(String k, int block) {
            if (block % 32 != 0) throw new IllegalStateException(k + " reduces across the block: blockDim " + block + " is not a multiple of 32");
        }

        static void run(EmulatedDevice d, String k, int gx, int gy, int block, Object[] a) {
            long threads = (long) gx * block;
            switch (k) {
                case "add_bias" -> {
                    long y = L(a[0]), bias = L(a[1]);
                    int rows = I(a[2]), cols = I(a[3]), ldy = I(a[4]);
                    for (long i = 0; i < Math.min(threads, (long) rows * cols); i++) {
                        long r = i / cols, c = i % cols;
                        d.f(y, r * ldy + c, d.f(y, r * ldy + c) + d.f(bias, c));
                    }
                }
                case "add_into" -> { for (long i = 0; i < Math.min(threads, L(a[2])); i++) d.f(L(a[0]), i, d.f(L(a[0]), i) + d.f(L(a[1]), i)); }
                case "divide_in_place" -> { for (long i = 0; i < Math.min(threads, L(a[1])); i++) d.f(L(a[0]), i, d.f(L(a[0]), i) / F(a[2])); }
                case "scale_in_place" -> { for (long i = 0; i < Math.min(threads, L(a[1])); i++) d.f(L(a[0]), i, d.f(L(a[0]), i) * F(a[2])); }
                case "relu_forward" -> { for (long i = 0; i < Math.min(threads, L(a[1])); i++) d.f(L(a[0]), i, Math.max(0f, d.f(L(a[0]), i))); }
                case "relu_backward" -> { for (long i = 0; i < Math.min(threads, L(a[2])); i++) if (d.f(L(a[0]), i) <= 0f) d.f(L(a[1]), i, 0f); }
                case "copy_rows" -> {
                    long src = L(a[0]), dst = L(a[2]);
                    int ss = I(a[1]), ds = I(a[3]), rows = I(a[4]), width = I(a[5]), acc = I(a[6]);
                    for (long i = 0; i < Math.min(threads, (long) rows * width); i++) {
                        long r = i / width, c = i % width, o = r * ds + c;
                        float v = d.f(src, r * ss + c);
                        d.f(dst, o, acc != 0 ? d.f(dst, o) + v : v);
                    }
                }
                case "bias_gelu_forward" -> {
                    long x = L(a[0]), bias = L(a[1]), pre = L(a[2]);
                    long n = L(a[3]);
                    int cols = I(a[4]);
                    for (long i = 0; i < Math.min(threads, n); i++) {
                        float v = d.f(x, i) + (bias == 0 ? 0f : d.f(bias, i % cols));
                        if (pre != 0) d.f(pre, i, v);
                        d.f(x, i, 0.5f * v * (1f + erf(v * 0.70710678118654752f)));
                    }
                }
                case "gelu_backward" -> {
                    for (long i = 0; i < Math.min(threads, L(a[2])); i++) {
                        float v = d.f(L(a[0]), i);
                        float cdf = 0.5f * (1f + erf(v * 0.70710678118654752f));
                        float pdf = (float) Math.exp(-0.5f * v * v) * 0.39894228040143268f;
                        d.f(L(a[1]), i, d.f(L(a[1]), i) * (cdf + v * pdf));
                    }
                }
                case "bias_tanh_forward" -> {
                    long x = L(a[0]), bias = L(a[1]);
                    int cols = I(a[3]);
                    for (long i = 0; i < Math.min(threads, L(a[2])); i++) d.f(x, i, (float) Math.tanh(d.f(x, i) + (bias == 0 ? 0f : d.f(bias, i % cols))));
                }
                case "tanh_backward" -> {
                    for (long i = 0; i < Math.min(threads, L(a[2])); i++) {
                        float y = d.f(L(a[0]), i);
                        d.f(L(a[1]), i, d.f(L(a[1]), i) * (1f - y * y));
                    }
                }
                case "dropout_forward" -> {
                    long x = L(a[0]), keep = L(a[1]), base = L(a[4]);
                    float p = F(a[3]);
                    for (long i = 0; i < Math.min(threads, L(a[2])); i++) {
                        boolean kept = keep(base, i, p);
                        d.u8(keep, i, kept);
                        d.f(x, i, kept ? d.f(x, i) * (1f / (1f - p)) : 0f);
                    }
                }
                case "dropout_backward" -> {
                    float p = F(a[3]);
                    for (long i = 0; i < Math.min(threads, L(a[2])); i++) d.f(L(a[0]), i, d.u8(L(a[1]), i) != 0 ? d.f(L(a[0]), i) * (1f / (1f - p)) : 0f);
                }
                case "dropout_apply" -> {
                    float p = F(a[4]);
                    for (long i = 0; i < Math.min(threads, L(a[3])); i++) d.f(L(a[1]), i, d.u8(L(a[2]), i) != 0 ? d.f(L(a[0]), i) * (1f / (1f - p)) : 0f);
                }
                case "additive_mask" -> { for (long i = 0; i < Math.min(threads, I(a[2])); i++) d.f(L(a[1]), i, d.i32(L(a[0]), i) == 0 ? -Float.MAX_VALUE : 0f); }
                case "embeddings_forward" -> {
                    long ids = L(a[0]), types = L(a[1]), word = L(a[2]), pos = L(a[3]), type = L(a[4]), out = L(a[5]);
                    int seq = I(a[6]), h = I(a[7]);
                    for (int r = 0; r < gx; r++) {
                        int id = d.i32(ids, r), t = types == 0 ? 0 : d.i32(types, r), s = r % seq;
                        for (int i = 0; i < h; i++) d.f(out, (long) r * h + i, d.f(word, (long) id * h + i) + d.f(pos, (long) s * h + i) + d.f(type, (long) t * h + i));
                    }
                }
                case "embeddings_backward" -> {
                    long ids = L(a[0]), types = L(a[1]), dout = L(a[2]), dw = L(a[3]), dp = L(a[4]), dt = L(a[5]);
                    int seq = I(a[6]), h = I(a[7]);
                    for (int r = 0; r < gx; r++) {
                        int id = d.i32(ids, r), t = types == 0 ? 0 : d.i32(types, r), s = r % seq;
                        for (int i = 0; i < h; i++) {
                            float v = d.f(dout, (long) r * h + i);
                            d.f(dw, (long) id * h + i, d.f(dw, (long) id * h + i) + v);
                            d.f(dp, (long) s * h + i, d.f(dp, (long) s * h + i) + v);
                            d.f(dt, (long) t * h + i, d.f(dt, (long) t * h + i) + v);
                        }
                    }
                }
                case "layernorm_forward" -> {
                    needWarps(k, block);
                    long x = L(a[0]), res = L(a[1]), g = L(a[2]), b = L(a[3]), y = L(a[4]), xhat = L(a[5]), rstd = L(a[6]);
                    int h = I(a[7]);
                    float eps = F(a[8]);
                    for (int r = 0; r < gx; r++) {
                        long o = (long) r * h;
                        float sum = 0f;
                        for (int i = 0; i < h; i++) {
                            float z = d.f(x, o + i) + (res == 0 ? 0f : d.f(res, o + i));
                            d.f(y, o + i, z);
                            sum += z;
                        }
                        float mean = sum / h, sq = 0f;
                        for (int i = 0; i < h; i++) sq += (d.f(y, o + i) - mean) * (d.f(y, o + i) - mean);
                        float inv = (float) (1.0 / Math.sqrt(sq / h + eps));
                        if (rstd != 0) d.f(rstd, r, inv);
                        for (int i = 0; i < h; i++) {
                            float hv = (d.f(y, o + i) - mean) * inv;
                            if (xhat != 0) d.f(xhat, o + i, hv);
                            d.f(y, o + i, hv * d.f(g, i) + d.f(b, i));
                        }
                    }
                }
                case "layernorm_backward" -> {
                    needWarps(k, block);
                    long dy = L(a[0]), xhat = L(a[1]), rstd = L(a[2]), g = L(a[3]), dz = L(a[4]), dgr = L(a[5]), dbr = L(a[6]);
                    int h = I(a[7]);
                    for (int r = 0; r < gx; r++) {
                        long o = (long) r * h;
                        float sg = 0f, sgx = 0f;
                        for (int i = 0; i < h; i++) {
                            float gv = d.f(dy, o + i) * d.f(g, i);
                            sg += gv;
                            sgx += gv * d.f(xhat, o + i);
                        }
                        float meanG = sg / h, meanGx = sgx / h, s = d.f(rstd, r);
                        for (int i = 0; i < h; i++) {
                            float dv = d.f(dy, o + i), hv = d.f(xhat, o + i);
                            d.f(dgr, o + i, dv * hv);
                            d.f(dbr, o + i, dv);
                            d.f(dz, o + i, s * (dv * d.f(g, i) - meanG - hv * meanGx));
                        }
                    }
                }
                case "split_heads", "merge_heads" -> {
                    boolean split = k.equals("split_heads");
                    long x = split ? L(a[0]) : L(a[1]), heads_ = split ? L(a[2]) : L(a[0]);
                    int ldx = I(a[split ? 1 : 2]), batch = I(a[3]), seq = I(a[4]), heads = I(a[5]), dd = I(a[6]), parts = I(a[7]);
                    long n = (long) parts * batch * seq * heads * dd;
                    for (long o = 0; o < Math.min(threads, n); o++) {
                        long i = o % dd, r = o / dd, s = r % seq;
                        r /= seq;
                        long h = r % heads;
                        r /= heads;
                        long b = r % batch, p = r / batch;
                        long xi = (b * seq + s) * ldx + (p * heads + h) * dd + i;
                        if (split) d.f(heads_, o, d.f(x, xi));
                        else d.f(x, xi, d.f(heads_, o));
                    }
                }
                case "masked_softmax_forward" -> {
                    needWarps(k, block);
                    long scores = L(a[0]), mask = L(a[1]);
                    int heads = I(a[2]), seq = I(a[3]);
                    float scale = F(a[4]);
                    for (int bh = 0; bh < gx; bh++) {
                        for (int s = 0; s < gy; s++) {
                            long row = ((long) bh * seq + s) * seq;
                            float mx = Float.NEGATIVE_INFINITY;
                            for (int t = 0; t < seq; t++) {
                                float z = d.f(scores, row + t) * scale + (mask == 0 ? 0f : d.f(mask, (long) (bh / heads) * seq + t));
                                d.f(scores, row + t, z);
                                mx = Math.max(mx, z);
                            }
                            float sum = 0f;
                            for (int t = 0; t < seq; t++) {
                                float e = (float) Math.exp(d.f(scores, row + t) - mx);
                                d.f(scores, row + t, e);
                                sum += e;
                            }
                            float inv = 1f / sum;
                            for (int t = 0; t < seq; t++) d.f(scores, row + t, d.f(scores, row + t) * inv);
                        }
                    }
                }
                case "softmax_backward" -> {
                    needWarps(k, block);
                    long probs = L(a[0]), dp = L(a[1]);
                    int seq = I(a[2]);
                    float scale = F(a[3]);
                    for (int bh = 0; bh < gx; bh++) {
                        for (int s = 0; s < gy; s++) {
                            long o = ((long) bh * seq + s) * seq;
                            float dot = 0f;
                            for (int t = 0; t < seq; t++) dot += d.f(probs, o + t) * d.f(dp, o + t);
                            for (int t = 0; t < seq; t++) d.f(dp, o + t, d.f(probs, o + t) * (d.f(dp, o + t) - dot) * scale);
                        }
                    }
                }
                case "cross_entropy_forward_backward" -> {
                    needWarps(k, block);
                    long logits = L(a[0]), labels = L(a[1]), rowLoss = L(a[2]), dl = L(a[3]);
                    int classes = I(a[4]), count = I(a[5]);
                    for (int r = 0; r < gx; r++) {
                        long o = (long) r * classes;
                        int label = d.i32(labels, r);
                        if (label == -100) {
                            for (int c = 0; c < classes; c++) d.f(dl, o + c, 0f);
                            d.f(rowLoss, r, 0f);
                            continue;
                        }
                        float mx = Float.NEGATIVE_INFINITY, sum = 0f;
                        for (int c = 0; c < classes; c++) mx = Math.max(mx, d.f(logits, o + c));
                        for (int c = 0; c < classes; c++) sum += (float) Math.exp(d.f(logits, o + c) - mx);
                        float lse = mx + (float) Math.log(sum);
                        for (int c = 0; c < classes; c++) d.f(dl, o + c, ((float) Math.exp(d.f(logits, o + c) - lse) - (c == label ? 1f : 0f)) / count);
                        d.f(rowLoss, r, lse - d.f(logits, o + label));
                    }
                }
                case "adamw_step" -> {
                    long p = L(a[0]), g = L(a[1]), m = L(a[2]), v = L(a[3]);
                    float decay = F(a[5]), b1 = F(a[6]), omb1 = F(a[7]), b2 = F(a[8]), omb2 = F(a[9]), neg = F(a[10]), bc2 = F(a[11]), eps = F(a[12]);
                    for (long i = 0; i < Math.min(threads, L(a[4])); i++) {
                        float gi = d.f(g, i), pi = d.f(p, i) * decay;
                        float mi = Math.fma(gi, omb1, d.f(m, i) * b1);
                        float vi = Math.fma(omb2 * gi, gi, d.f(v, i) * b2);
                        float denom = (float) Math.sqrt(vi) / bc2 + eps;
                        d.f(m, i, mi);
                        d.f(v, i, vi);
                        d.f(p, i, pi + neg * mi / denom);
                    }
                }
                case "sum_squares" -> {
                    long g = L(a[0]), n = L(a[1]), partial = L(a[2]);
                    for (int b = 0; b < gx; b++) {
                        float s = 0f;
                        for (long i = (long) b * block; i < Math.min(n, (long) (b + 1) * block); i++) s += d.f(g, i) * d.f(g, i);
                        d.f(partial, b, s);
                    }
                }
                case "mean_pool_forward" -> {
                    long hidden = L(a[0]), mask = L(a[1]), out = L(a[2]);
                    int seq = I(a[3]), h = I(a[4]);
                    for (int b = 0; b < gx; b++) {
                        int count = 0;
                        for (int s = 0; s < seq; s++) if (mask == 0 || d.i32(mask, (long) b * seq + s) != 0) count++;
                        float inv = 1f / Math.max((float) count, 1e-9f);
                        for (int i = 0; i < h; i++) {
                            float sum = 0f;
                            for (int s = 0; s < seq; s++) if (mask == 0 || d.i32(mask, (long) b * seq + s) != 0) sum += d.f(hidden, ((long) b * seq + s) * h + i);
                            d.f(out, (long) b * h + i, sum * inv);
                        }
                    }
                }
                case "mean_pool_backward" -> {
                    long dout = L(a[0]), mask = L(a[1]), dh = L(a[2]);
                    int seq = I(a[3]), h = I(a[4]);
                    for (int r = 0; r < gx; r++) {
                        int b = r / seq, count = 0;
                        for (int s = 0; s < seq; s++) if (mask == 0 || d.i32(mask, (long) b * seq + s) != 0) count++;
                        boolean real = mask == 0 || d.i32(mask, r) != 0;
                        float inv = 1f / Math.max(count, 1);
                        for (int i = 0; i < h; i++) d.f(dh, (long) r * h + i, real ? d.f(dout, (long) b * h + i) * inv : 0f);
                    }
                }
                default -> throw new IllegalStateException("the emulator has no kernel " + k);
            }
        }

        /** common.cuh's dropout_keep: dev.bertj.backend.DropoutRng's SplitMix64 counter hash. */
        static boolean keep(long base, long i, float p) {
            long z = base + i * 0x9E3779B97F4A7C15L;
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            z = z ^ (z >>> 31);
            return (z >>> 40) * 0x1.0p-24f >= p;
        }
    }
}
