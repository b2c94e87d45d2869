package dev.bertj.backend;

import dev.bertj.tensor.Tensor;

/**
 * The parameters of a dense layer as a backend needs them ({@code dev.bertj.nn.Linear} is one):
 * {@code y = x W^T + b} with W stored {@code [out, in]} as PyTorch's nn.Linear.
 */
public interface LinearWeights {
    /** W, {@code [out, in]}. */
    Tensor weight();

    /** b, {@code [out]}, or null for a layer without bias. */
    Tensor bias();

    /** Input size. */
    default int in() {
        return weight().dim(1);
    }

    /** Output size. */
    default int out() {
        return weight().dim(0);
    }
}
