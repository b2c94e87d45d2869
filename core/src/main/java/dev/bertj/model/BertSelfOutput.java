package dev.bertj.model;

import dev.bertj.backend.Backend;
import dev.bertj.backend.Buf;
import dev.bertj.backend.Mask;
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
    record Ctx(Buf x, Mask keep, Buf xhat, Buf rstd, int rows) { }

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

    void forward(Backend be, Buf x, Buf input, int rows, Buf out) {
        be.linear(x, rows, dense, out, false);
        be.layerNorm(out, input, rows, layerNorm, out, null, null);
    }

    Ctx forwardTrain(Backend be, Buf x, Buf input, int rows, Buf out, TrainMode mode, int site) {
        int n = rows * dense.out();
        be.linear(x, rows, dense, out, false);
        Mask keep = mode.drop(be, out, n, dropout, site);
        Buf xhat = be.floats(n), rstd = be.floats(rows);
        be.layerNorm(out, input, rows, layerNorm, out, xhat, rstd);
        return new Ctx(x, keep, xhat, rstd, rows);
    }

    /**
     * Backward: {@code dOut} is consumed; {@code dInput} receives the residual branch's gradient
     * (overwritten) and {@code dx} the dense input's.
     */
    void backward(Backend be, Ctx c, Buf dOut, Buf dInput, Buf dx, Gradients g) {
        int n = c.rows * dense.out();
        be.layerNormBackward(layerNorm, c.xhat, c.rstd, dOut, c.rows, dInput, g.of(prefix + "LayerNorm.weight", layerNorm.weight()),
                g.of(prefix + "LayerNorm.bias", layerNorm.bias()));
        Buf dDense = be.floats(n);
        be.copyRows(dInput, 0, 0, dDense, 0, 0, 1, n, false);
        if (c.keep != null) be.dropoutBackward(dDense, n, dropout, c.keep);
        dense.backward(be, prefix + "dense", c.x, dDense, 0, dense.out(), c.rows, dx, false, g);
    }
}
