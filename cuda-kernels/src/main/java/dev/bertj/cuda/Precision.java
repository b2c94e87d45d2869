package dev.bertj.cuda;

/**
 * The arithmetic of the GPU backend's matrix products (cuBLAS compute types). Storage stays float32
 * throughout; only the GEMMs' inputs are rounded.
 */
public enum Precision {
    /** IEEE float32 products and sums: the parity setting, as the CPU (CUBLAS_COMPUTE_32F). */
    FP32,
    /** Inputs rounded to TF32 (10-bit mantissa) on tensor cores, float32 sums (CUBLAS_COMPUTE_32F_FAST_TF32). */
    TF32,
    /** Inputs rounded to bfloat16 on tensor cores, float32 sums (CUBLAS_COMPUTE_32F_FAST_16BF). */
    BF16;

    /** Parses {@code fp32}, {@code tf32} or {@code bf16}; the error names what was given. */
    public static Precision parse(String s) {
        for (Precision p : values()) if (p.name().equalsIgnoreCase(s.trim())) return p;
        throw new IllegalArgumentException("unknown GPU precision '" + s + "': use fp32, tf32 or bf16");
    }
}
