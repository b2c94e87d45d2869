package dev.bertj.model;

import dev.bertj.nn.Dropout;

/**
 * Dropout settings of one training step. Each dropout site has a fixed number, so a mask depends
 * only on (seed, step, site, index): the same seed gives the same masks for any thread count.
 *
 * @param seed the run's seed
 * @param step the optimizer step (a new mask every step)
 * @param enabled false to run the training path without dropout (for gradient checks)
 */
public record TrainMode(long seed, long step, boolean enabled) {
    /** Gradients without dropout: deterministic, as PyTorch's eval-mode autograd. */
    public static TrainMode noDropout() {
        return new TrainMode(0, 0, false);
    }

    static final int EMBEDDINGS = 0, CLASSIFIER = 1;

    /** Site numbers of layer {@code layer}: 0 attention probabilities, 1 attention output, 2 output. */
    static int layerSite(int layer, int which) {
        return 8 + layer * 4 + which;
    }

    /** Whether dropout with probability {@code p} runs at all in this mode. */
    boolean drops(float p) {
        return enabled && p > 0f;
    }

    /** {@link Dropout#forwardRange} at {@code site}: elements {@code [first, first + n)} of its mask. */
    void dropRange(float[] x, int xOff, int n, float p, int site, boolean[] keep, int first) {
        Dropout.forwardRange(x, xOff, n, p, seed, step * 4096 + site, keep, first);
    }

    /** Applies dropout with probability {@code p} at {@code site}; returns the keep mask or null. */
    boolean[] drop(float[] x, int n, float p, int site) {
        if (!enabled || p <= 0f) return null;
        return Dropout.forward(x, n, p, seed, step * 4096 + site, Arena.bools(n));
    }
}
