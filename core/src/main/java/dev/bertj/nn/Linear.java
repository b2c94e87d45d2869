package dev.bertj.nn;

import dev.bertj.cpu.Kernels;
import dev.bertj.tensor.Tensor;

/** {@code y = x W^T + b}, W stored {@code [out, in]} as PyTorch's nn.Linear. */
public final class Linear {
    private final Tensor weight;
    private final Tensor bias;

    /** @param weight [out, in]; @param bias [out] or null */
    public Linear(Tensor weight, Tensor bias) {
        if (weight.rank() != 2) throw new IllegalArgumentException("Linear weight must be 2-D, got " + weight);
        if (bias != null && !bias.hasShape(weight.dim(0))) {
            throw new IllegalArgumentException("Linear bias " + bias + " does not match weight " + weight);
        }
        this.weight = weight;
        this.bias = bias;
    }

    public Tensor weight() { return weight; }
    public Tensor bias() { return bias; }
    public int in() { return weight.dim(1); }
    public int out() { return weight.dim(0); }

    /** Applies the layer to {@code rows} rows of {@code x} into {@code y}. */
    public void forward(Kernels k, float[] x, int rows, float[] y) {
        k.linear(x, rows, in(), weight.data(), bias == null ? null : bias.data(), out(), y);
    }

    /**
     * Backward: {@code dx = dy W} (when {@code dx} is not null) and, accumulated into the gradients
     * named {@code name + ".weight"/".bias"}, {@code dW += dy^T x}, {@code db += sum_rows dy}.
     */
    public void backward(Kernels k, String name, float[] x, float[] dy, int rows, float[] dx, Gradients g) {
        k.linearBackward(x, dy, rows, in(), weight.data(), out(), dx, g.of(name + ".weight", weight),
                bias == null ? null : g.of(name + ".bias", bias));
    }
}
