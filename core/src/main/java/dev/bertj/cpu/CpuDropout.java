package dev.bertj.cpu;

import dev.bertj.backend.DropoutRng;

/**
 * Inverted dropout on host arrays with the shared {@link DropoutRng} masks, so the CPU and a GPU drop
 * the same elements for the same seed, for any thread count:
 * <pre>
 * forward:  y = x * keep / (1 - p)       backward: dx = dy * keep / (1 - p)
 * </pre>
 */
final class CpuDropout {
    /** Elements below which dropout runs on one thread. */
    private static final int PARALLEL_FROM = 1 << 16;

    private CpuDropout() { }

    /** Dropout on {@code x[0, n)} in place, the mask written to {@code keep}; nothing when {@code p == 0}. */
    static void forward(Kernels k, float[] x, int n, float p, long seed, long site, boolean[] keep) {
        DropoutRng.checkProbability(p);
        if (p == 0f) return;
        // Each element's mask depends only on its index, so slices may run on any thread.
        Parallel.forSlices(n, PARALLEL_FROM, (s, from, to) -> forwardRange(k, x, from, to - from, p, seed, site, keep, from));
    }

    /**
     * Dropout on {@code x[xOff, xOff + n)} as elements {@code [first, first + n)} of the site's mask
     * (written to {@code keep[first...]}): one attention head's block of a larger tensor gets exactly
     * the mask dropping the whole tensor would give it.
     */
    static void forwardRange(Kernels k, float[] x, int xOff, int n, float p, long seed, long site, boolean[] keep, int first) {
        DropoutRng.checkProbability(p);
        k.dropout(x, xOff, n, p, DropoutRng.base(seed, site), keep, first);
    }

    /** {@code d = d * keep / (1 - p)} in place, in parallel slices; nothing without a mask. */
    static void backward(Kernels k, float[] d, int n, float p, boolean[] keep) {
        if (keep == null) return;
        float scale = 1f / (1f - p);
        Parallel.forSlices(n, PARALLEL_FROM, (s, from, to) -> k.applyMask(d, from, d, from, to - from, keep, from, scale));
    }
}
