package dev.bertj.cuda;

import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;

/**
 * {@link DeviceApi} on a real CUDA device: cudaMalloc, cudaMemcpy, bertj's kernels compiled by NVRTC
 * ({@link KernelModule}) and cuBLAS ({@link Gemm}), all on the default stream.
 */
final class CudaDevice implements DeviceApi {
    private final Map<String, KernelModule> kernelFile = new HashMap<>();
    private final Map<Long, Pointer> allocations = new HashMap<>();
    private final Gemm gemm;
    private final Gemm gemmFp32;
    private final int index;
    /** Whether the calling thread has made this device current (the runtime's current device is per thread). */
    private final ThreadLocal<Boolean> bound = new ThreadLocal<>();

    CudaDevice(int index, Precision precision, Path cacheDir) {
        this.index = index;
        int cc = Cuda.use(index);
        bound.set(Boolean.TRUE);
        try {
            Map<String, String> kernels = KernelSources.kernels();
            for (String file : KernelSources.FILES) {
                KernelModule m = KernelModule.load(file, cc, cacheDir);
                kernels.forEach((k, f) -> { if (f.equals(file)) kernelFile.put(k, m); });
            }
        } catch (IOException e) {
            throw new UncheckedIOException("caching compiled CUDA kernels in " + cacheDir, e);
        }
        gemm = new Gemm(precision);
        gemmFp32 = precision == Precision.FP32 ? gemm : new Gemm(Precision.FP32);
    }

    /** Makes this device current on the calling thread, once per thread (another thread may start on device 0). */
    private void bind() {
        if (bound.get() == null) {
            Cuda.check(cudart.cudaSetDevice(index), "cudaSetDevice(" + index + ")");
            bound.set(Boolean.TRUE);
        }
    }

    @Override
    public synchronized long malloc(long bytes) {
        bind();
        Pointer p = new Pointer();
        Cuda.check(cudart.cudaMalloc(p, Math.max(1, bytes)), "cudaMalloc(" + bytes + " bytes)");
        allocations.put(p.address(), p);
        return p.address();
    }

    @Override
    public synchronized void free(long address) {
        bind();
        Pointer p = allocations.remove(address);
        if (p != null) cudart.cudaFree(p);
    }

    @Override
    public synchronized void upload(float[] src, long address) {
        bind();
        try (FloatPointer h = new FloatPointer(src)) {
            Cuda.check(cudart.cudaMemcpy(DeviceMemory.at(address), h, 4L * src.length, cudart.cudaMemcpyHostToDevice), "copying to the device");
        }
    }

    @Override
    public synchronized void upload(int[] src, long address) {
        bind();
        try (IntPointer h = new IntPointer(src)) {
            Cuda.check(cudart.cudaMemcpy(DeviceMemory.at(address), h, 4L * src.length, cudart.cudaMemcpyHostToDevice), "copying to the device");
        }
    }

    @Override
    public synchronized void download(long address, float[] dst) {
        bind();
        try (FloatPointer h = new FloatPointer(dst.length)) {
            Cuda.check(cudart.cudaMemcpy(h, DeviceMemory.at(address), 4L * dst.length, cudart.cudaMemcpyDeviceToHost), "copying from the device");
            h.get(dst);
        }
    }

    @Override
    public synchronized void memset(long address, long bytes) {
        bind();
        Cuda.check(cudart.cudaMemset(DeviceMemory.at(address), 0, bytes), "clearing device memory");
    }

    @Override
    public synchronized void launch(String kernel, int gridX, int gridY, int block, Object... args) {
        bind();
        KernelModule m = kernelFile.get(kernel);
        if (m == null) throw new IllegalStateException("no CUDA kernel " + kernel + " in bertj-cuda");
        m.launchAsync(kernel, gridX, gridY, block, args);
    }

    @Override
    public synchronized void gemm(boolean transA, boolean transB, int m, int n, int k, long a, int lda, long b, int ldb, float beta, long c, int ldc) {
        bind();
        gemm.run(transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc);
    }

    @Override
    public synchronized void gemmFp32(boolean transA, boolean transB, int m, int n, int k, long a, int lda, long b, int ldb, float beta, long c, int ldc) {
        bind();
        gemmFp32.run(transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc);
    }

    @Override
    public synchronized void gemmBatched(boolean transA, boolean transB, int m, int n, int k, long a, int lda, long strideA, long b, int ldb, long strideB,
                            float beta, long c, int ldc, long strideC, int count) {
        bind();
        gemm.batched(transA, transB, m, n, k, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC, count);
    }

    @Override
    public synchronized void synchronize() {
        bind();
        Cuda.check(cudart.cudaDeviceSynchronize(), "running queued GPU work");
    }

    /** Live allocations made through {@link #malloc} (the tests' leak check: exact, unlike the driver's device-wide figure). */
    synchronized int liveAllocations() {
        return allocations.size();
    }

    @Override
    public synchronized void close() {
        bind();
        for (Pointer p : allocations.values()) cudart.cudaFree(p);
        allocations.clear();
        gemm.close();
        if (gemmFp32 != gemm) gemmFp32.close();
        for (KernelModule m : new HashSet<>(kernelFile.values())) m.close();
    }
}
