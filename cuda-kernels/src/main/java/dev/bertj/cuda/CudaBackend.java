package dev.bertj.cuda;

import dev.bertj.backend.Activation;
import dev.bertj.backend.AdamWStep;
import dev.bertj.backend.Arena;
import dev.bertj.backend.Backend;
import dev.bertj.backend.Buf;
import dev.bertj.backend.Device;
import dev.bertj.backend.DropoutRng;
import dev.bertj.backend.Labels;
import dev.bertj.backend.LinearWeights;
import dev.bertj.backend.Mask;
import dev.bertj.backend.NormWeights;
import dev.bertj.tensor.Tensor;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The GPU backend: {@link Backend}'s operations on one CUDA device, with cuBLAS for every matrix
 * product ({@link Gemm}, at the chosen {@link Precision}) and bertj's kernels (src/main/cuda, compiled
 * by NVRTC) for the rest. Work is queued on the default stream in order; copies to the host wait
 * for it. Runs one pass at a time (the model serializes on it).
 *
 * <p>Parameters are uploaded on first use and kept; an optimizer step here leaves the device copy
 * newer, and the tensor's {@link Tensor#data()} copies it back when read. {@link #close} frees every
 * allocation this backend made. Buffers asked for outside an active arena (tests calling operations
 * directly) are kept until {@link #close}: model code always runs inside a pass's arena.
 */
public final class CudaBackend implements Backend {
    private static final int THREADS = 256;
    private final Device device;
    private final Precision precision;
    private final DeviceApi api;
    private final Map<Tensor, Param> params = new IdentityHashMap<>();
    private final List<Long> owned = new ArrayList<>();
    private final List<Arena> arenas = new ArrayList<>();
    private final Map<int[], Ints> ints = new LinkedHashMap<>(16, 0.75f, true);
    private final List<Ints> spareInts = new ArrayList<>();
    private final Arena loose;
    private DevBuf ones;
    private DevBuf partials;
    private boolean closed;

    /** A device buffer of floats at {@code address}. */
    record DevBuf(long address, int size) implements Buf {
        long at(int offset) {
            return address + 4L * offset;
        }
    }

    /** A device mask at {@code address}: one byte per element. */
    record DevMask(long address, int size) implements Mask { }

    private static final class Param {
        final DevBuf buf;
        int version;
        boolean deviceNewer;
        Runnable fetch;

        Param(DevBuf buf, int version) {
            this.buf = buf;
            this.version = version;
        }
    }

    /** An int array on the device ({@code capacity} ints), with the contents it was uploaded from. */
    private record Ints(int[] copy, long address, int capacity) { }

    private final Arena.Allocator allocator = new Arena.Allocator() {
        public Buf floats(int n) { return new DevBuf(api.malloc(4L * n), n); }
        public Mask mask(int n) { return new DevMask(api.malloc(n), n); }
        public void free(Object o) {
            if (o instanceof DevBuf b) api.free(b.address());
            else if (o instanceof DevMask m) api.free(m.address());
        }
    };

    /** A backend for {@code device} on {@code api} (the real device, or the tests' emulation). */
    CudaBackend(Device device, Precision precision, DeviceApi api) {
        this.device = device;
        this.precision = precision;
        this.api = api;
        this.loose = newArena();
    }

    /**
     * Opens CUDA device {@code index} with GEMMs at {@code precision}, compiled kernels cached under
     * {@code ~/.cache/bertj/cuda}.
     *
     * @throws IllegalStateException with {@link Cuda#status()}'s sentence when CUDA cannot be used here
     */
    public static CudaBackend open(int index, Precision precision) {
        Cuda.Status s = Cuda.status();
        if (!s.available()) throw new IllegalStateException(s.reason());
        if (index >= s.devices()) throw new IllegalStateException("no CUDA device " + index + ": this machine has " + s.devices());
        Path cache = dev.bertj.io.Cache.root().resolve("cuda"); // -Dbertj.cache moves it with every other cache
        return new CudaBackend(Device.cuda(index), precision, new CudaDevice(index, precision, cache));
    }

    /** The GEMM precision. */
    public Precision precision() {
        return precision;
    }

    @Override public Device device() { return device; }
    @Override public String name() { return "cuda:" + device.index() + "/cublas-" + precision.name().toLowerCase(java.util.Locale.ROOT); }

    @Override
    public synchronized Arena newArena() {
        Arena a = new Arena(allocator);
        arenas.add(a);
        return a;
    }

    private Arena arena() {
        Arena a = Arena.active();
        return a != null && a.uses(allocator) ? a : loose;
    }

    @Override public Buf floats(int n) { return arena().floats(n); }
    @Override public Mask mask(int n) { return arena().mask(n); }

    @Override
    public Buf zeros(int n) {
        Buf b = floats(n);
        zero(b, n);
        return b;
    }

    @Override
    public Buf upload(float[] host) {
        Buf b = floats(host.length);
        write(b, host);
        return b;
    }

    @Override
    public void write(Buf b, float[] host) {
        api.upload(host, d(b).address());
    }

    @Override
    public float[] download(Buf b, float[] host) {
        api.download(d(b).address(), host);
        return host;
    }

    @Override public Buf resultBuffer(float[] host) { return floats(host.length); }

    @Override
    public synchronized Buf param(Tensor t) {
        Param p = params.get(t);
        if (p != null && (p.deviceNewer || p.version == t.version())) return p.buf;
        float[] host = t.data();
        if (p == null) {
            p = new Param(ownedBuf(host.length), t.version());
            params.put(t, p);
        }
        p.version = t.version();
        write(p.buf, host);
        return p.buf;
    }

    @Override
    public synchronized void paramUpdated(Tensor t) {
        Param p = params.get(t);
        if (p == null) throw new IllegalStateException("parameter " + t + " was never on " + device);
        if (p.fetch == null) {
            Param q = p;
            p.fetch = () -> {
                synchronized (this) {
                    // data() has cleared its hook, so this returns the array without fetching again.
                    download(q.buf, t.data());
                    q.deviceNewer = false;
                    t.changed();
                    q.version = t.version();
                }
            };
        }
        p.deviceNewer = true;
        t.deviceChanged(p.fetch);
    }

    @Override
    public synchronized Buf gradient(int n) {
        DevBuf b = ownedBuf(n);
        zero(b, n);
        return b;
    }

    /** A buffer that lives until {@link #close}. */
    private synchronized DevBuf ownedBuf(int n) {
        long a = api.malloc(4L * n);
        owned.add(a);
        return new DevBuf(a, n);
    }

    @Override
    public void zero(Buf x, int n) {
        api.memset(d(x).address(), 4L * n);
    }

    // ---- launches ----

    private static DevBuf d(Buf b) {
        if (b == null) return null;
        if (!(b instanceof DevBuf db)) throw new IllegalArgumentException("a " + b.getClass().getSimpleName() + " was passed to the CUDA backend");
        return db;
    }

    private static Long addr(Buf b) {
        return b == null ? 0L : d(b).at(0);
    }

    private static Long addr(Mask m) {
        return m == null ? 0L : ((DevMask) m).address();
    }

    /** Queues a kernel (also for {@link CudaAttention}). */
    void launch(String kernel, int gridX, int gridY, int block, Object... args) {
        if (gridX == 0 || gridY == 0) return;  // nothing to do (an empty batch); CUDA refuses empty grids
        api.launch(kernel, gridX, gridY, block, args);
    }

    /** Queues a kernel with one thread per element of {@code n} (also for {@link CudaAttention}). */
    void elementwise(String kernel, long n, Object... args) {
        if (n == 0) return;
        launch(kernel, (int) ((n + THREADS - 1) / THREADS), 1, THREADS, args);
    }

    /** Threads for one block per row of {@code width}: a multiple of 32, at most 256. */
    private static int rowBlock(int width) {
        return Math.min(THREADS, Math.max(32, (width + 31) / 32 * 32));
    }

    /**
     * The device copy of host ints (ids, masks, labels), cached by array and contents. Device memory of
     * evicted entries is kept for reuse: a cudaFree would wait for the whole device each step.
     */
    private synchronized long ints(int[] a) {
        if (a == null) return 0L;
        Ints i = ints.get(a);
        if (i != null && Arrays.equals(i.copy, a)) return i.address;
        if (i == null || i.capacity < a.length) {
            if (i != null) spareInts.add(i);
            ints.remove(a);
            i = null;
            for (Ints spare : spareInts) {
                if (spare.capacity >= a.length) {
                    i = spare;
                    spareInts.remove(spare);
                    break;
                }
            }
            if (i == null) {
                int capacity = Math.max(a.length, 1024);
                i = new Ints(null, api.malloc(4L * capacity), capacity);
            }
        }
        api.upload(a, i.address);
        long address = i.address;
        ints.put(a, new Ints(a.clone(), address, i.capacity));
        if (ints.size() > 8) {
            Map.Entry<int[], Ints> eldest = ints.entrySet().iterator().next();
            ints.remove(eldest.getKey());
            spareInts.add(eldest.getValue());
        }
        while (spareInts.size() > 8) api.free(spareInts.remove(0).address);
        return address;
    }

    // ---- dense layers ----

    @Override
    public void linear(Buf x, int rows, LinearWeights l, Buf y, Activation epilogue) {
        if (rows == 0) return;
        linearInto(x, rows, l, d(y).at(0), l.out());
        if (epilogue == Activation.GELU) {
            elementwise("bias_gelu_forward", (long) rows * l.out(), addr(y), l.bias() == null ? 0L : addr(param(l.bias())), 0L,
                    (long) rows * l.out(), l.out());
        } else if (l.bias() != null) {
            elementwise("add_bias", (long) rows * l.out(), addr(y), addr(param(l.bias())), rows, l.out(), l.out());
        }
        if (epilogue != null && epilogue != Activation.GELU) activation(epilogue, y, rows * l.out());
    }

    /** {@code y = x W^T} into row-major columns at {@code y} with row stride {@code ldy} (no bias). */
    private void linearInto(Buf x, int rows, LinearWeights l, long y, int ldy) {
        // Row-major y = x W^T is column-major y^T = W x^T: W (row-major [out, in]) read transposed.
        api.gemm(true, false, l.out(), rows, l.in(), d(param(l.weight())).at(0), l.in(), d(x).at(0), l.in(), 0f, y, ldy);
    }

    @Override
    public void linear(Buf x, int rows, List<? extends LinearWeights> parts, Buf y) {
        if (rows == 0) return;
        int col = 0, out = 0;
        for (LinearWeights l : parts) out += l.out();
        for (LinearWeights l : parts) {
            long at = d(y).at(col);
            linearInto(x, rows, l, at, out);
            if (l.bias() != null) elementwise("add_bias", (long) rows * l.out(), at, addr(param(l.bias())), rows, l.out(), out);
            col += l.out();
        }
    }

    @Override
    public void linearBackward(LinearWeights l, Buf x, Buf dy, int dyOff, int ldy, int rows, Buf dx, boolean accumulateDx, Buf dW, Buf db) {
        if (rows == 0) return;
        int in = l.in(), out = l.out();
        long w = d(param(l.weight())).at(0), dyAt = d(dy).at(dyOff);
        // dx = dy W: column-major dx^T = W^T dy^T.
        if (dx != null) api.gemm(false, false, in, rows, out, w, in, dyAt, ldy, accumulateDx ? 1f : 0f, d(dx).at(0), in);
        // dW += dy^T x: column-major dW^T = x^T dy.
        api.gemm(false, true, in, out, rows, d(x).at(0), in, dyAt, ldy, 1f, d(dW).at(0), in);
        // db += dy^T 1: a GEMM with a column of ones.
        if (db != null) api.gemmFp32(false, false, out, 1, rows, dyAt, ldy, ones(rows), rows, 1f, d(db).at(0), out);
    }

    private synchronized long ones(int n) {
        if (ones == null || ones.size() < n) {
            if (ones != null) api.free(ones.address());
            float[] h = new float[Math.max(n, 4096)];
            Arrays.fill(h, 1f);
            ones = new DevBuf(api.malloc(4L * h.length), h.length);
            api.upload(h, ones.address());
        }
        return ones.address();
    }

    /** The GPU has exact GELU, ReLU and tanh kernels; the tanh GELU runs on the CPU only. */
    @Override
    public boolean supports(Activation act) {
        return act != Activation.GELU_TANH;
    }

    @Override
    public void activation(Activation act, Buf x, int n) {
        switch (act) {
            case GELU -> elementwise("bias_gelu_forward", n, addr(x), 0L, 0L, (long) n, 1);
            case RELU -> elementwise("relu_forward", n, addr(x), (long) n);
            case TANH -> elementwise("bias_tanh_forward", n, addr(x), 0L, (long) n, 1);
            default -> throw new IllegalArgumentException("activation " + act.hfName() + " has no GPU kernel (gelu, relu and tanh do)");
        }
    }

    @Override
    public void activationBackward(Activation act, Buf saved, Buf dBuf, int n) {
        switch (act) {
            case GELU -> elementwise("gelu_backward", n, addr(saved), addr(dBuf), (long) n);
            case RELU -> elementwise("relu_backward", n, addr(saved), addr(dBuf), (long) n);
            case TANH -> elementwise("tanh_backward", n, addr(saved), addr(dBuf), (long) n);
            default -> throw new IllegalArgumentException("activation " + act.hfName() + " has no GPU kernel (gelu, relu and tanh do)");
        }
    }

    @Override
    public void layerNorm(Buf x, Buf residual, int rows, NormWeights ln, Buf y, Buf xhat, Buf rstd) {
        int h = ln.weight().size();
        launch("layernorm_forward", rows, 1, rowBlock(h), addr(x), addr(residual), addr(param(ln.weight())), addr(param(ln.bias())),
                addr(y), addr(xhat), addr(rstd), h, ln.eps());
    }

    @Override
    public void layerNormBackward(NormWeights ln, Buf xhat, Buf rstd, Buf dy, int rows, Buf dz, Buf dGamma, Buf dBeta) {
        int h = ln.weight().size();
        Buf gRows = floats(rows * h), bRows = floats(rows * h);
        launch("layernorm_backward", rows, 1, rowBlock(h), addr(dy), addr(xhat), addr(rstd), addr(param(ln.weight())), addr(dz),
                addr(gRows), addr(bRows), h);
        // dgamma += sum over rows of the per-row partials: column-major [h, rows] times a column of ones.
        api.gemmFp32(false, false, h, 1, rows, d(gRows).address(), h, ones(rows), rows, 1f, d(dGamma).address(), h);
        api.gemmFp32(false, false, h, 1, rows, d(bRows).address(), h, ones(rows), rows, 1f, d(dBeta).address(), h);
    }

    @Override
    public void dropout(Buf x, int n, float p, long seed, long site, Mask keep) {
        DropoutRng.checkProbability(p);
        elementwise("dropout_forward", n, addr(x), addr(keep), (long) n, p, DropoutRng.base(seed, site));
    }

    @Override
    public void dropoutBackward(Buf dBuf, int n, float p, Mask keep) {
        if (keep != null) elementwise("dropout_backward", n, addr(dBuf), addr(keep), (long) n, p);
    }

    @Override public void add(Buf a, Buf b, int n) { elementwise("add_into", n, addr(a), addr(b), (long) n); }
    @Override public void scale(Buf x, int n, float s) { elementwise("scale_in_place", n, addr(x), (long) n, s); }
    @Override public void divide(Buf x, int n, float dv) { elementwise("divide_in_place", n, addr(x), (long) n, dv); }

    @Override
    public double sumSquares(Buf x, int n) {
        return sumSquares(List.of(x), new int[] {n})[0];
    }

    @Override
    public double[] sumSquares(List<Buf> xs) {
        int[] n = new int[xs.size()];
        for (int i = 0; i < n.length; i++) n[i] = xs.get(i).size();
        return sumSquares(xs, n);
    }

    /** Per-block partial sums of every buffer into one scratch array, read back once; each buffer's partials summed in double. */
    private synchronized double[] sumSquares(List<Buf> xs, int[] n) {
        int total = 0;
        for (int v : n) total += (v + THREADS - 1) / THREADS;
        // Called between passes (gradient clipping), so its scratch is the backend's own, reused.
        if (partials == null || partials.size() < Math.max(total, 1)) {
            if (partials != null) api.free(partials.address());
            partials = new DevBuf(api.malloc(4L * Math.max(total, 1)), Math.max(total, 1));
        }
        int at = 0;
        for (int i = 0; i < n.length; i++) {
            int blocks = (n[i] + THREADS - 1) / THREADS;
            if (blocks > 0) launch("sum_squares", blocks, 1, THREADS, addr(xs.get(i)), (long) n[i], partials.at(at));
            at += blocks;
        }
        float[] h = new float[total];
        if (total > 0) api.download(partials.address(), h);
        double[] out = new double[n.length];
        at = 0;
        for (int i = 0; i < n.length; i++) {
            int blocks = (n[i] + THREADS - 1) / THREADS;
            for (int b = 0; b < blocks; b++) out[i] += h[at + b];
            at += blocks;
        }
        return out;
    }

    @Override
    public void copy(Buf src, Buf dst, int n) {
        copyRows(src, 0, 0, dst, 0, 0, 1, n, false);
    }

    @Override
    public void copyRows(Buf src, int srcOff, int srcStride, Buf dst, int dstOff, int dstStride, int rows, int width, boolean accumulate) {
        elementwise("copy_rows", (long) rows * width, d(src).at(srcOff), srcStride, d(dst).at(dstOff), dstStride, rows, width, accumulate ? 1 : 0);
    }

    // ---- BERT-specific ----

    @Override
    public void embeddings(int[] ids, int[] types, int batch, int seq, Tensor word, Tensor position, Tensor type, Buf out) {
        launch("embeddings_forward", batch * seq, 1, rowBlock(word.dim(1)), ints(ids), ints(types), addr(param(word)), addr(param(position)),
                addr(param(type)), addr(out), seq, word.dim(1));
    }

    @Override
    public void embeddingsBackward(int[] ids, int[] types, int batch, int seq, int hidden, Buf dOut, Buf dWord, Buf dPosition, Buf dType) {
        launch("embeddings_backward", batch * seq, 1, rowBlock(hidden), ints(ids), ints(types), addr(dOut), addr(dWord), addr(dPosition),
                addr(dType), seq, hidden);
    }

    @Override
    public void attention(AttentionShape s, Buf qkv, int[] mask, Buf context, Buf probs, float p, long seed, long site, Mask keep) {
        new CudaAttention(this, api, s).forward(d(qkv), mask, d(context), probs == null ? d(floats(s.batch() * s.heads() * s.seq() * s.seq())) : d(probs),
                p, seed, site, keep);
    }

    @Override
    public void attentionBackward(AttentionShape s, Buf qkv, Buf probs, Mask keep, float p, Buf dContext, Buf dqkv) {
        new CudaAttention(this, api, s).backward(d(qkv), d(probs), keep, p, d(dContext), d(dqkv));
    }

    /** For {@link CudaAttention}: HF's additive mask on the device ([B*S]), or 0 for none. */
    long additiveMask(int[] mask) {
        if (mask == null) return 0L;
        Buf m = floats(mask.length);
        elementwise("additive_mask", mask.length, ints(mask), addr(m), mask.length);
        return addr(m);
    }

    /** For {@link CudaAttention}: a scratch buffer from the active arena. */
    DevBuf scratch(int n) {
        return d(floats(n));
    }

    @Override
    public void meanPool(Buf hidden, int[] mask, int batch, int seq, int h, Buf out) {
        launch("mean_pool_forward", batch, 1, rowBlock(h), addr(hidden), ints(mask), addr(out), seq, h);
    }

    @Override
    public void meanPoolBackward(Buf dOut, int[] mask, int batch, int seq, int h, Buf dHidden) {
        launch("mean_pool_backward", batch * seq, 1, rowBlock(h), addr(dOut), ints(mask), addr(dHidden), seq, h);
    }

    @Override
    public float crossEntropy(Buf logits, int rows, int classes, int[] labels, Buf dLogits) {
        int counted = Labels.count(labels, rows, classes);
        Buf rowLoss = floats(rows), dl = dLogits != null ? dLogits : floats(rows * classes);
        launch("cross_entropy_forward_backward", rows, 1, 32, addr(logits), ints(labels), addr(rowLoss), addr(dl), classes, Math.max(counted, 1));
        double total = 0;
        for (float v : download(rowLoss, new float[rows])) total += v;
        return (float) (total / counted);
    }

    @Override
    public void adamw(Buf p, Buf g, Buf m, Buf v, int n, AdamWStep st) {
        elementwise("adamw_step", n, addr(p), addr(g), addr(m), addr(v), (long) n, st.decay(), st.beta1(), st.oneMinusBeta1(), st.beta2(),
                st.oneMinusBeta2(), st.negStepSize(), st.bc2Sqrt(), st.eps());
    }

    @Override
    public void synchronize() {
        api.synchronize();
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        // Parameters read later must still see the trained values.
        for (Map.Entry<Tensor, Param> e : params.entrySet()) if (e.getValue().deviceNewer) e.getKey().data();
        for (Arena a : arenas) a.close();
        for (long a : owned) api.free(a);
        for (Ints i : ints.values()) api.free(i.address);
        for (Ints i : spareInts) api.free(i.address);
        if (ones != null) api.free(ones.address());
        if (partials != null) api.free(partials.address());
        api.close();
    }
}
