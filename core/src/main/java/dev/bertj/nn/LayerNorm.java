package dev.bertj.nn;

import dev.bertj.tensor.Tensor;

/**
 * LayerNorm over the last dimension, with the residual add fused in:
 * <pre>
 * z = x + residual;  mu = mean(z);  var = mean((z - mu)^2)   (biased, as PyTorch)
 * y = (z - mu) / sqrt(var + eps) * weight + bias
 * </pre>
 */
public final class LayerNorm {
    private final Tensor weight;
    private final Tensor bias;
    private final float eps;

    /** @param weight [H] gamma; @param bias [H] beta */
    public LayerNorm(Tensor weight, Tensor bias, float eps) {
        this.weight = weight;
        this.bias = bias;
        this.eps = eps;
    }

    public Tensor weight() { return weight; }
    public Tensor bias() { return bias; }

    /** {@code y = LayerNorm(x + residual)} row by row; {@code residual} may be null; {@code y} may be {@code x}. */
    public void forward(float[] x, float[] residual, int rows, float[] y) {
        int h = weight.size();
        float[] g = weight.data(), b = bias.data();
        for (int r = 0; r < rows; r++) {
            int o = r * h;
            double sum = 0;
            for (int i = 0; i < h; i++) {
                float z = residual == null ? x[o + i] : x[o + i] + residual[o + i];
                y[o + i] = z;
                sum += z;
            }
            float mean = (float) (sum / h);
            double sq = 0;
            for (int i = 0; i < h; i++) {
                float d = y[o + i] - mean;
                sq += d * d;
            }
            float inv = (float) (1.0 / Math.sqrt(sq / h + eps));
            for (int i = 0; i < h; i++) y[o + i] = (y[o + i] - mean) * inv * g[i] + b[i];
        }
    }
}
