package dev.bertj.nn;

import dev.bertj.cpu.Kernels;
import dev.bertj.cpu.Parallel;
import dev.bertj.cpu.Vectorization;
import dev.bertj.tensor.Tensor;

/**
 * LayerNorm over the last dimension, with the residual add fused in:
 * <pre>
 * z = x + residual;  mu = mean(z);  var = mean((z - mu)^2)   (biased, as PyTorch)
 * y = (z - mu) / sqrt(var + eps) * weight + bias
 *
 * backward, per row, with xhat = (z - mu) * rstd:
 * dweight += dy * xhat;  dbias += dy;  g = dy * weight
 * dz = rstd * (g - mean(g) - xhat * mean(g * xhat))          (dx = dresidual = dz)
 * </pre>
 */
public final class LayerNorm {
    private static final Kernels K = Vectorization.kernels();
    /** Rows below which LayerNorm runs on one thread. */
    private static final int PARALLEL_FROM = 64;
    private final Tensor weight;
    private final Tensor bias;
    private final float eps;

    /** @param weight [H] gamma; @param bias [H] beta */
    public LayerNorm(Tensor weight, Tensor bias, float eps) {
        this.weight = weight;
        this.bias = bias;
        this.eps = eps;
    }

    /** What backward needs: the normalized input and 1/sqrt(var + eps) of each row. */
    public record Ctx(float[] xhat, float[] rstd) { }

    public Tensor weight() { return weight; }
    public Tensor bias() { return bias; }
    public float eps() { return eps; }

    /** {@code y = LayerNorm(x + residual)} row by row; {@code residual} may be null; {@code y} may be {@code x}. */
    public void forward(float[] x, float[] residual, int rows, float[] y) {
        forward(x, residual, rows, y, null);
    }

    /** As {@link #forward(float[], float[], int, float[])}, keeping what backward needs when {@code ctx} is given. */
    public Ctx forwardTrain(float[] x, float[] residual, int rows, float[] y) {
        return forwardTrain(x, residual, rows, y, new float[rows * weight.size()], new float[rows]);
    }

    /** As {@link #forwardTrain(float[], float[], int, float[])}, keeping xhat and rstd in the given arrays. */
    public Ctx forwardTrain(float[] x, float[] residual, int rows, float[] y, float[] xhat, float[] rstd) {
        Ctx ctx = new Ctx(xhat, rstd);
        forward(x, residual, rows, y, ctx);
        return ctx;
    }

    private void forward(float[] x, float[] residual, int rows, float[] y, Ctx ctx) {
        int h = weight.size();
        float[] xhat = ctx == null ? null : ctx.xhat, rstd = ctx == null ? null : ctx.rstd;
        Parallel.forSlices(rows, PARALLEL_FROM, (c, from, to) -> K.layerNorm(x, residual, from, to, h,
                weight.data(), bias.data(), eps, y, xhat, rstd));
    }

    /**
     * Backward: {@code dz} receives d loss / d (x + residual) for {@code dy} (it may be {@code dy});
     * parameter gradients accumulate into {@code dWeight}, {@code dBias}.
     */
    public void backward(Ctx ctx, float[] dy, int rows, float[] dz, float[] dWeight, float[] dBias) {
        int h = weight.size();
        int chunks = Parallel.slices(rows, PARALLEL_FROM);
        // Each chunk sums its rows' dgamma and dbeta apart; adding the chunks in order keeps the
        // result independent of which thread ran what.
        float[][] dg = new float[chunks][h], db = new float[chunks][h];
        Parallel.forSlices(rows, PARALLEL_FROM, (c, from, to) ->
                K.layerNormBackward(ctx.xhat, ctx.rstd, dy, from, to, h, weight.data(), dz, dg[c], db[c]));
        for (int c = 0; c < chunks; c++) {
            for (int i = 0; i < h; i++) {
                dWeight[i] += dg[c][i];
                dBias[i] += db[c][i];
            }
        }
    }
}
