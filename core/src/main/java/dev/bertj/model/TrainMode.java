package dev.bertj.model;

import dev.bertj.backend.Backend;
import dev.bertj.backend.Buf;
import dev.bertj.backend.Mask;

/**
 * The training context of one step, passed to every layer's forward (null there means inference):
 * dropout's seed and step. Each dropout site has a fixed number, so a mask depends only on (seed,
 * step, site, index) ({@link dev.bertj.backend.DropoutRng}): the same seed gives the same masks for
 * any thread count and on any device.
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

    /** The generator's site number for dropout site {@code site} at this step (a new mask every step). */
    long site(int site) {
        return step * 4096 + site;
    }

    /** Applies dropout with probability {@code p} at {@code site} on the backend; returns the keep mask or null. */
    Mask drop(Backend be, Buf x, int n, float p, int site) {
        if (!drops(p)) return null;
        Mask keep = be.mask(n);
        be.dropout(x, n, p, seed, site(site), keep);
        return keep;
    }
}
