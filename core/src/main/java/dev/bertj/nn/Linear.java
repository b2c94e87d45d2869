package dev.bertj.nn;

import dev.bertj.backend.Backend;
import dev.bertj.backend.Buf;
import dev.bertj.backend.LinearWeights;
import dev.bertj.tensor.Tensor;

/**
 * PyTorch's nn.Linear as parameters: {@code y = x W^T + b}, W stored {@code [out, in]}. The arithmetic
 * is the backend's ({@link Backend#linear}); a backend keeps any packed copy of W it needs itself.
 *
 * @param weight {@code [out, in]}
 * @param bias {@code [out]}, or null
 */
public record Linear(Tensor weight, Tensor bias) implements LinearWeights {
    /** Checks the shapes. */
    public Linear {
        if (weight.rank() != 2) throw new IllegalArgumentException("Linear weight must be 2-D, got " + weight);
        if (bias != null && !bias.hasShape(weight.dim(0))) {
            throw new IllegalArgumentException("Linear bias " + bias + " does not match weight " + weight);
        }
    }

    /**
     * Backward on a backend with gradients by checkpoint name: {@code dW} into {@code name + ".weight"},
     * {@code db} into {@code name + ".bias"}; {@code dy} is a strided view (row r at
     * {@code dyOff + r * ldy}), and {@code dx} is overwritten (or added to, with {@code accumulateDx}).
     * <pre>
     * dx = dy W;   dW += dy^T x;   db += 1^T dy
     * </pre>
     */
    public void backward(Backend be, String name, Buf x, Buf dy, int dyOff, int ldy, int rows, Buf dx, boolean accumulateDx, Gradients g) {
        be.linearBackward(this, x, dy, dyOff, ldy, rows, dx, accumulateDx, g.of(name + ".weight", weight),
                bias == null ? null : g.of(name + ".bias", bias));
    }
}
