package dev.bertj.nn;

import dev.bertj.backend.Backend;
import dev.bertj.backend.Buf;
import dev.bertj.cpu.Kernels;
import dev.bertj.cpu.PackedWeight;
import dev.bertj.tensor.Tensor;

/** {@code y = x W^T + b}, W stored {@code [out, in]} as PyTorch's nn.Linear. */
public final class Linear {
    private final Tensor weight;
    private final Tensor bias;
    /** The weight laid out for the GEMM, rebuilt when the weight's version moves. */
    private volatile Packed packed;

    private record Packed(Kernels kernels, int version, PackedWeight weight) { }

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
        k.linear(x, rows, packed(k), bias == null ? null : bias.data(), y);
    }

    /** The weight packed for {@code k}, cached until the weight changes ({@link Tensor#changed()}). */
    public PackedWeight packed(Kernels k) {
        Packed p = packed;
        int v = weight.version();
        if (p == null || p.kernels != k) {
            p = new Packed(k, v, k.pack(weight.data(), out(), in()));
            packed = p;
        } else if (p.version != v) {
            // An optimizer step changed the weight: lay it out again in the same buffer.
            k.repack(weight.data(), p.weight);
            p = new Packed(k, v, p.weight);
            packed = p;
        }
        return p.weight;
    }

    /**
     * Backward with {@code dy} a strided view (row {@code r} at {@code dyOff + r * ldy}, as one
     * projection's columns of a fused output): {@code dx = dy W} (when {@code dx} is not null;
     * overwritten or, with {@code accumulateDx}, added to), {@code dW += dy^T x} and
     * {@code db += sum_rows dy} (when the layer has a bias).
     */
    public void backward(Kernels k, float[] x, float[] dy, int dyOff, int ldy, int rows, float[] dx, boolean accumulateDx,
                         float[] dW, float[] db) {
        int in = in(), out = out();
        if (dx != null) k.gemm(rows, in, out, dy, dyOff, ldy, 1, weight.data(), 0, in, 1, dx, 0, in, accumulateDx);
        k.gemm(out, in, rows, dy, dyOff, 1, ldy, x, 0, in, 1, dW, 0, in, true);
        // db += 1^T dy: a one-row GEMM whose A is the constant 1 (both strides 0).
        if (bias != null) k.gemm(1, out, rows, ONE, 0, 0, 0, dy, dyOff, ldy, 1, db, 0, out, true);
    }

    /**
     * Backward on a backend, gradients by name: {@code dW} into {@code name + ".weight"}, {@code db}
     * into {@code name + ".bias"}; otherwise as {@link #backward(Kernels, float[], float[], int, int, int, float[], boolean, float[], float[])}.
     */
    public void backward(Backend be, String name, Buf x, Buf dy, int dyOff, int ldy, int rows, Buf dx, boolean accumulateDx, Gradients g) {
        be.linearBackward(this, x, dy, dyOff, ldy, rows, dx, accumulateDx, g.of(name + ".weight", weight),
                bias == null ? null : g.of(name + ".bias", bias));
    }

    private static final float[] ONE = {1f};
}
