package dev.bertj.nn;

import dev.bertj.backend.NormWeights;
import dev.bertj.tensor.Tensor;

/**
 * PyTorch's nn.LayerNorm over the last dimension, as parameters; backends fuse the residual add in:
 * <pre>
 * z = x + residual;  mu = mean(z);  var = mean((z - mu)^2)   (biased, as PyTorch)
 * y = (z - mu) / sqrt(var + eps) * weight + bias
 *
 * backward, per row, with xhat = (z - mu) * rstd:
 * dweight += dy * xhat;  dbias += dy;  g = dy * weight
 * dz = rstd * (g - mean(g) - xhat * mean(g * xhat))          (dx = dresidual = dz)
 * </pre>
 *
 * @param weight gamma {@code [H]}
 * @param bias beta {@code [H]}
 * @param eps added to the variance
 */
public record LayerNorm(Tensor weight, Tensor bias, float eps) implements NormWeights {
    /** Checks the shapes. */
    public LayerNorm {
        if (weight.rank() != 1 || !bias.hasShape(weight.size())) {
            throw new IllegalArgumentException("LayerNorm weight " + weight + " and bias " + bias + " must both be [H]");
        }
    }
}
