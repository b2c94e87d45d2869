package dev.bertj.model;

import dev.bertj.backend.Backend;
import dev.bertj.backend.Buf;
import dev.bertj.backend.Mask;
import dev.bertj.nn.Gradients;
import dev.bertj.nn.LayerNorm;
import dev.bertj.nn.Linear;

/**
 * {@code attention.output} (and, with a wider input, {@code output}): HF's
 * {@code forward(hidden_states, input_tensor)}, a dense layer, dropout, and the residual LayerNorm.
 * <pre>
 * forward:  out = LayerNorm(dropout(dense(hidden_states)) + input_tensor)
 * backward: dz = LayerNorm'(dout);  dinput_tensor = dz;  dhidden_states = dense'(dropout'(dz))
 * </pre>
 */
public sealed class BertSelfOutput permits BertOutput {
    final Linear dense;
    final LayerNorm layerNorm;
    private final String prefix;
    private final float dropout;
    private final int site;

    /** What backward needs. */
    record Ctx(Buf hiddenStates, Mask keep, Buf xhat, Buf rstd, int rows) { }

    BertSelfOutput(BertConfig c, WeightSource w, String prefix, int site) {
        this(c, w, prefix, c.hiddenSize(), site);
    }

    /** @param in the dense layer's input size (H here, intermediate_size in {@link BertOutput}) */
    BertSelfOutput(BertConfig c, WeightSource w, String prefix, int in, int site) {
        int h = c.hiddenSize();
        this.prefix = prefix;
        this.site = site;
        this.dropout = c.hiddenDropoutProb();
        dense = new Linear(w.get(prefix + "dense.weight", WeightSource.Init.NORMAL, h, in), w.get(prefix + "dense.bias", WeightSource.Init.ZEROS, h));
        layerNorm = new LayerNorm(w.get(prefix + "LayerNorm.weight", WeightSource.Init.ONES, h),
                w.get(prefix + "LayerNorm.bias", WeightSource.Init.ZEROS, h), c.layerNormEps());
    }

    /** {@code out = LayerNorm(dropout(dense(hiddenStates)) + inputTensor)}; {@code train} null for inference (no dropout, no context). */
    Ctx forward(Backend be, Buf hiddenStates, Buf inputTensor, int rows, Buf out, TrainMode train) {
        int n = rows * dense.out();
        be.linear(hiddenStates, rows, dense, out, null);
        if (train == null) {
            be.layerNorm(out, inputTensor, rows, layerNorm, out, null, null);
            return null;
        }
        Mask keep = train.drop(be, out, n, dropout, site);
        Buf xhat = be.floats(n), rstd = be.floats(rows);
        be.layerNorm(out, inputTensor, rows, layerNorm, out, xhat, rstd);
        return new Ctx(hiddenStates, keep, xhat, rstd, rows);
    }

    /**
     * Backward: {@code dOut} is consumed; {@code dHiddenStates} receives the dense input's gradient and
     * {@code dInputTensor} the residual branch's (both overwritten).
     */
    void backward(Backend be, Ctx c, Buf dOut, Buf dHiddenStates, Buf dInputTensor, Gradients g) {
        int n = c.rows * dense.out();
        be.layerNormBackward(layerNorm, c.xhat, c.rstd, dOut, c.rows, dInputTensor, g.of(prefix + "LayerNorm.weight", layerNorm.weight()),
                g.of(prefix + "LayerNorm.bias", layerNorm.bias()));
        Buf dDense = be.floats(n);
        be.copy(dInputTensor, dDense, n);
        if (c.keep != null) be.dropoutBackward(dDense, n, dropout, c.keep);
        dense.backward(be, prefix + "dense", c.hiddenStates, dDense, 0, dense.out(), c.rows, dHiddenStates, false, g);
    }
}
