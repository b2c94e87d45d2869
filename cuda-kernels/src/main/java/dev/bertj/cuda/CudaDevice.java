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

    CudaDevice(int index, Precision precision, Path cacheDir) {
        int cc = Cuda.use(index);
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

    @Override
    public long malloc(long bytes) {
        Pointer p = new Pointer();
        Cuda.check(cudart.cudaMalloc(p, Math.max(1, bytes)), "cudaMalloc(" + bytes + " bytes)");
        allocations.put(p.address(), p);
        return p.address();
    }

    @Override
    public void free(long address) {
        Pointer p = allocations.remove(address);
        if (p != null) cudart.cudaFree(p);
    }

    @Override
    public void upload(float[] src, long address) {
        try (FloatPointer h = new FloatPointer(src)) {
            Cuda.check(cudart.cudaMemcpy(DeviceMemory.at(address), h, 4L * src.length, cudart.cudaMemcpyHostToDevice), "copying to the device");
        }
    }

    @Override
    public void upload(int[] src, long address) {
        try (IntPointer h = new IntPointer(src)) {
            Cuda.check(cudart.cudaMemcpy(DeviceMemory.at(address), h, 4L * src.length, cudart.cudaMemcpyHostToDevice), "copying to the device");
        }
    }

    @Override
    public void download(long address, float[] dst) {
        try (FloatPointer h = new FloatPointer(dst.length)) {
            Cuda.check(cudart.cudaMemcpy(h, DeviceMemory.at(address), 4L * dst.length, cudart.cudaMemcpyDeviceToHost), "copying from the device");
            h.get(dst);
        }
    }

    @Override
    public void memset(long address, long bytes) {
        Cuda.check(cudart.cudaMemset(DeviceMemory.at(address), 0, bytes), "clearing device memory");
    }

    @Override
    public void launch(String kernel, int gridX, int gridY, int block, Object... args) {
        KernelModule m = kernelFile.get(kernel);
        if (m == null) throw new IllegalStateException("no CUDA kernel " + kernel + " in bertj-cuda");
        m.launchAsync(kernel, gridX, gridY, block, args);
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, long a, int lda, long b, int ldb, float beta, long c, int ldc) {
        gemm.run(transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc);
    }

    @Override
    public void gemmFp32(boolean transA, boolean transB, int m, int n, int k, long a, int lda, long b, int ldb, float beta, long c, int ldc) {
        gemmFp32.run(transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc);
    }

    @Override
    public void gemmBatched(boolean transA, boolean transB, int m, int n, int k, long a, int lda, long strideA, long b, int ldb, long strideB,
                            float beta, long c, int ldc, long strideC, int count) {
        gemm.batched(transA, transB, m, n, k, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC, count);
    }

    @Override
    public void synchronize() {
        Cuda.check(cudart.cudaDeviceSynchronize(), "running queued GPU work");
    }

    @Override
    public void close() {
        for (Pointer p : allocations.values()) cudart.cudaFree(p);
        allocations.clear();
        gemm.close();
        if (gemmFp32 != gemm) gemmFp32.close();
        for (KernelModule m : new HashSet<>(kernelFile.values())) m.close();
    }
}
