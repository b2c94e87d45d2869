package dev.bertj.backend;

/**
 * One device's implementation of everything the model needs, in three parts: {@link Memory} (arenas,
 * parameter copies, transfers), {@link LayerOps} (the layers' arithmetic) and {@link OptimizerOps}.
 * Model code ({@code dev.bertj.model}) calls only these, with {@link Buf} activations, so the CPU
 * ({@code dev.bertj.cpu.CpuBackend}) and CUDA (bertj-cuda) run the same model code; only the kernels
 * differ. Backends are found through {@link Backends}.
 *
 * <p>A backend runs one pass per thread at a time; the CUDA backend runs one pass at a time in all.
 */
public interface Backend extends Memory, LayerOps, OptimizerOps, AutoCloseable {
    /** The device. */
    Device device();

    /** Name for logs and benchmarks (the kernels in use). */
    String name();

    /** Whether this backend runs {@code act}; a model using one it lacks is refused when moved here. */
    default boolean supports(Activation act) {
        return true;
    }

    /**
     * {@inheritDoc}
     *
     * <p>This default pads the rows to the longest sequence (zeros, so no stale value can turn the masked
     * scores into NaN), runs {@link #attention} with the padding mask and packs the context again: exact,
     * for a backend without a varlen kernel of its own.
     */
    @Override
    default void attentionPacked(int heads, int headDim, int[] offsets, Buf qkv, Buf context) {
        int batch = offsets.length - 1, hidden = heads * headDim, seq = 0;
        for (int b = 0; b < batch; b++) seq = Math.max(seq, offsets[b + 1] - offsets[b]);
        int[] mask = new int[batch * seq];
        Buf paddedQkv = zeros(batch * seq * 3 * hidden), paddedContext = floats(batch * seq * hidden);
        for (int b = 0; b < batch; b++) {
            int len = offsets[b + 1] - offsets[b];
            java.util.Arrays.fill(mask, b * seq, b * seq + len, 1);
            copyRows(qkv, offsets[b] * 3 * hidden, 0, paddedQkv, b * seq * 3 * hidden, 0, 1, len * 3 * hidden, false);
        }
        attention(new AttentionShape(batch, seq, heads, headDim), paddedQkv, mask, paddedContext, null, 0f, 0, 0, null);
        for (int b = 0; b < batch; b++) {
            int len = offsets[b + 1] - offsets[b];
            copyRows(paddedContext, b * seq * hidden, 0, context, offsets[b] * hidden, 0, 1, len * hidden, false);
        }
    }

    /** Waits for queued work (a no-op on the CPU); for timing. */
    default void synchronize() { }

    /** Frees what this backend holds on its device (parameter copies, gradients, arenas). */
    @Override
    void close();
}
