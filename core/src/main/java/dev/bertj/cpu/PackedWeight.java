package dev.bertj.cpu;

/**
 * A Linear weight laid out once for a {@link Kernels} implementation's GEMM (for the Vector API:
 * column panels as wide as the register tile, zero padded). Opaque to callers; make one with
 * {@link Kernels#pack} and pass it to {@link Kernels#linear(float[], int, PackedWeight, float[], float[])}.
 * A packed weight is a snapshot: repack after changing the weight.
 */
public final class PackedWeight {
    final float[] data;
    /** Input size (the GEMM's K). */
    final int in;
    /** Output size (the GEMM's N). */
    final int out;

    PackedWeight(float[] data, int in, int out) {
        this.data = data;
        this.in = in;
        this.out = out;
    }

    /** Input features. */
    public int in() {
        return in;
    }

    /** Output features. */
    public int out() {
        return out;
    }
}
