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
        int seq = 0;
        for (int b = 0; b + 1 < offsets.length; b++) seq = Math.max(seq, offsets[b + 1] - offsets[b]);
        attentionPackedTrain(new AttentionShape(offsets.length - 1, seq, heads, headDim), offsets, qkv, context, null, 0f, 0, 0, null);
    }

    /**
     * {@inheritDoc}
     *
     * <p>This default pads the rows to {@code s.seq()} (zeros, so no stale value can turn the masked
     * scores into NaN), runs {@link #attention} with the padding mask and packs the context again.
     */
    @Override
    default void attentionPackedTrain(AttentionShape s, int[] offsets, Buf qkv, Buf context, Buf probs, float p, long seed, long site, Mask keep) {
        int hidden = s.hidden(), rows = s.batch() * s.seq();
        Buf paddedQkv = zeros(rows * 3 * hidden), paddedContext = floats(rows * hidden);
        repackRows(offsets, s.seq(), 3 * hidden, qkv, paddedQkv, true);
        attention(s, paddedQkv, paddingMask(offsets, s.seq()), paddedContext, probs, p, seed, site, keep);
        repackRows(offsets, s.seq(), hidden, paddedContext, context, false);
        Arena.free(paddedContext);
        Arena.free(paddedQkv);
    }

    /** {@inheritDoc} <p>This default pads, runs {@link #attentionBackward} and packs dqkv again. */
    @Override
    default void attentionPackedBackward(AttentionShape s, int[] offsets, Buf qkv, Buf probs, Mask keep, float p, Buf dContext, Buf dqkv) {
        int hidden = s.hidden(), rows = s.batch() * s.seq();
        Buf paddedQkv = zeros(rows * 3 * hidden), paddedContext = zeros(rows * hidden), paddedDqkv = floats(rows * 3 * hidden);
        repackRows(offsets, s.seq(), 3 * hidden, qkv, paddedQkv, true);
        repackRows(offsets, s.seq(), hidden, dContext, paddedContext, true);
        attentionBackward(s, paddedQkv, probs, keep, p, paddedContext, paddedDqkv);
        repackRows(offsets, s.seq(), 3 * hidden, paddedDqkv, dqkv, false);
        Arena.free(paddedDqkv);
        Arena.free(paddedContext);
        Arena.free(paddedQkv);
    }

    /** HF's 0/1 mask of the right-padded batch that {@code offsets} packs, at length {@code seq}. */
    private static int[] paddingMask(int[] offsets, int seq) {
        int[] mask = new int[(offsets.length - 1) * seq];
        for (int b = 0; b + 1 < offsets.length; b++) java.util.Arrays.fill(mask, b * seq, b * seq + offsets[b + 1] - offsets[b], 1);
        return mask;
    }

    /** Waits for queued work (a no-op on the CPU); for timing. */
    default void synchronize() { }

    /** Frees what this backend holds on its device (parameter copies, gradients, arenas). */
    @Override
    void close();
}
