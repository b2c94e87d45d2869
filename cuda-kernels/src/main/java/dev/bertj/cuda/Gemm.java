package dev.bertj.cuda;

import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.FloatPointer;

/**
 * cuBLAS matrix products on float32 device matrices, in cuBLAS's column-major terms: callers turn
 * row-major products into column-major ones (a row-major matrix is its column-major transpose, so
 * row-major {@code C = A B} is column-major {@code C^T = B^T A^T}). Queued on the default stream.
 */
final class Gemm implements AutoCloseable {
    private final cublasContext handle = new cublasContext();
    private final int compute;
    private final FloatPointer alpha = new FloatPointer(1f);
    private final FloatPointer zero = new FloatPointer(0f);
    private final FloatPointer one = new FloatPointer(1f);

    Gemm(Precision precision) {
        check(cublas.cublasCreate_v2(handle), "creating a cuBLAS handle");
        compute = switch (precision) {
            case FP32 -> cublas.CUBLAS_COMPUTE_32F;
            case TF32 -> cublas.CUBLAS_COMPUTE_32F_FAST_TF32;
            case BF16 -> cublas.CUBLAS_COMPUTE_32F_FAST_16BF;
        };
    }

    /**
     * Column-major {@code C = op(A) op(B) + beta C}, {@code C} m x n, {@code op(A)} m x k, {@code op(B)} k x n;
     * A, B and C are device addresses; beta is 0 or 1.
     */
    void run(boolean transA, boolean transB, int m, int n, int k, long a, int lda, long b, int ldb, float beta, long c, int ldc) {
        check(cublas.cublasGemmEx(handle, op(transA), op(transB), m, n, k, alpha, DeviceMemory.at(a), cudart.CUDA_R_32F, lda,
                DeviceMemory.at(b), cudart.CUDA_R_32F, ldb, beta == 0f ? zero : one, DeviceMemory.at(c), cudart.CUDA_R_32F, ldc,
                compute, cublas.CUBLAS_GEMM_DEFAULT), "cublasGemmEx " + m + "x" + n + "x" + k);
    }

    /** {@link #run} on {@code count} matrices at fixed strides (in floats) from each start address. */
    void batched(boolean transA, boolean transB, int m, int n, int k, long a, int lda, long strideA, long b, int ldb, long strideB,
                 float beta, long c, int ldc, long strideC, int count) {
        check(cublas.cublasGemmStridedBatchedEx(handle, op(transA), op(transB), m, n, k, alpha, DeviceMemory.at(a), cudart.CUDA_R_32F, lda, strideA,
                DeviceMemory.at(b), cudart.CUDA_R_32F, ldb, strideB, beta == 0f ? zero : one, DeviceMemory.at(c), cudart.CUDA_R_32F, ldc, strideC,
                count, compute, cublas.CUBLAS_GEMM_DEFAULT), "cublasGemmStridedBatchedEx " + count + " x " + m + "x" + n + "x" + k);
    }

    private static int op(boolean t) {
        return t ? cublas.CUBLAS_OP_T : cublas.CUBLAS_OP_N;
    }

    private static void check(int status, String what) {
        if (status != 0) throw new IllegalStateException(what + " failed: " + cublas.cublasGetStatusString(status).getString());
    }

    @Override
    public void close() {
        cublas.cublasDestroy_v2(handle);
        alpha.close();
        zero.close();
        one.close();
    }
}
