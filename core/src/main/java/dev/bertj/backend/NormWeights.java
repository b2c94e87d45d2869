package dev.bertj.backend;

import dev.bertj.tensor.Tensor;

/** The parameters of a LayerNorm as a backend needs them ({@code dev.bertj.nn.LayerNorm} is one). */
public interface NormWeights {
    /** gamma, {@code [H]}. */
    Tensor weight();

    /** beta, {@code [H]}. */
    Tensor bias();

    /** Added to the variance before the square root. */
    float eps();

    /** The normalized width H. */
    default int width() {
        return weight().size();
    }
}
