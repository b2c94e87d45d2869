package dev.bertj.cuda;

/**
 * What {@link CudaBackend} asks of a device: memory by address, copies, kernel launches by name and
 * cuBLAS-style GEMMs. {@link CudaDevice} is the real one (CUDA through JavaCPP); the tests also run the
 * backend on an emulation in host memory, so its addressing, GEMM layouts and kernel arguments are
 * checked against the CPU backend on machines without a GPU.
 *
 * <p>Addresses are bytes; GEMM matrices are column-major float32 with strides in elements, as cuBLAS.
 * Work is ordered: each call sees the effects of the calls before it.
 */
interface DeviceApi extends AutoCloseable {
    /** {@code bytes} of device memory (contents undefined). */
    long malloc(long bytes);

    /** Frees what {@link #malloc} returned. */
    void free(long address);

    /** Copies {@code src} to {@code address}. */
    void upload(float[] src, long address);

    /** Copies {@code src} to {@code address}. */
    void upload(int[] src, long address);

    /** Copies {@code dst.length} floats from {@code address}. */
    void download(long address, float[] dst);

    /** Sets {@code bytes} bytes at {@code address} to zero. */
    void memset(long address, long bytes);

    /**
     * Launches bertj kernel {@code kernel} (src/main/cuda) on {@code gridX x gridY} blocks of {@code block}
     * threads; arguments are Long (addresses, 64-bit integers), Integer and Float, in the kernel's order.
     */
    void launch(String kernel, int gridX, int gridY, int block, Object... args);

    /** Column-major {@code C = op(A) op(B) + beta C} (beta 0 or 1), as cublasGemmEx. */
    void gemm(boolean transA, boolean transB, int m, int n, int k, long a, int lda, long b, int ldb, float beta, long c, int ldc);

    /**
     * {@link #gemm} in IEEE float32 whatever the backend's precision: the sums over rows that make bias
     * and LayerNorm gradients (a matrix times a column of ones) are reductions, not products to round.
     */
    void gemmFp32(boolean transA, boolean transB, int m, int n, int k, long a, int lda, long b, int ldb, float beta, long c, int ldc);

    /** {@link #gemm} on {@code count} matrices at fixed element strides, as cublasGemmStridedBatchedEx. */
    void gemmBatched(boolean transA, boolean transB, int m, int n, int k, long a, int lda, long strideA, long b, int ldb, long strideB,
                     float beta, long c, int ldc, long strideC, int count);

    /** Waits for queued work. */
    void synchronize();

    @Override
    void close();
}
