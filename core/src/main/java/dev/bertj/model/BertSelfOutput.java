package dev.bertj.model;

import dev.bertj.cpu.Kernels;
import dev.bertj.nn.Dropout;
import dev.bertj.nn.Gradients;
import dev.bertj.nn.LayerNorm;
import dev.bertj.nn.Linear;

/**
 * {@code attention.output} (and, with other sizes, {@code output}): a dense layer, dropout, and the
 * residual LayerNorm.
 * <pre>
 * forward:  out = LayerNorm(dropout(dense(x)) + input)
 * backward: dz = LayerNorm'(dout);  dinput += dz;  dx = dense'(dropout'(dz))
 * </pre>
 */
public sealed class BertSelfOutput permits BertOutput {
    final Linear dense;
    final LayerNorm layerNorm;
    private final String prefix;
    private final float dropout;

    /** What backward needs. */
    record Ctx(float[] x, boolean[] keep, LayerNorm.Ctx norm, int rows) { }

    BertSelfOutput(BertConfig c, WeightSource w, String prefix) {
        this(c, w, prefix, c.hiddenSize());
    }

    /** @param in the dense layer's input size (H here, intermediate_size in {@link BertOutput}) */
    BertSelfOutput(BertConfig c, WeightSource w, String prefix, int in) {
        int h = c.hiddenSize();
        this.prefix = prefix;
        this.dropout = c.hiddenDropoutProb();
        dense = new Linear(w.get(prefix + "dense.weight", WeightSource.Init.NORMAL, h, in), w.get(prefix + "dense.bias", WeightSource.Init.ZEROS, h));
        layerNorm = new LayerNorm(w.get(prefix + "LayerNorm.weight", WeightSource.Init.ONES, h),
                w.get(prefix + "LayerNorm.bias", WeightSource.Init.ZEROS, h), c.layerNormEps());
    }

    void forward(Kernels k, float[] x, float[] input, int rows, float[] out) {
        dense.forward(k, x, rows, out);
        layerNorm.forward(out, input, rows, out);
    }

    Ctx forwardTrain(Kernels k, float[] x, float[] input, int rows, float[] out, TrainMode mode, int site) {
        dense.forward(k, x, rows, out);
        boolean[] keep = mode.drop(out, rows * dense.out(), dropout, site);
        LayerNorm.Ctx norm = layerNorm.forwardTrain(out, input, rows, out, Arena.floats(rows * dense.out()), Arena.floats(rows));
        return new Ctx(x, keep, norm, rows);
    }

    /**
     * Backward: {@code dOut} is consumed; {@code dInput} receives the residual branch's gradient
     * (overwritten) and {@code dx} the dense input's.
     */
    void backward(Kernels k, Ctx c, float[] dOut, float[] dInput, float[] dx, Gradients g) {
        layerNorm.backward(c.norm, dOut, c.rows, dInput, g.of(prefix + "LayerNorm.weight", layerNorm.weight()),
                g.of(prefix + "LayerNorm.bias", layerNorm.bias()));
        float[] dDense = Arena.floats(c.rows * dense.out());
        System.arraycopy(dInput, 0, dDense, 0, dDense.length);
        Dropout.backward(dDense, c.rows * dense.out(), dropout, c.keep);
        dense.backward(k, prefix + "dense", c.x, dDense, c.rows, dx, g);
    }
}
