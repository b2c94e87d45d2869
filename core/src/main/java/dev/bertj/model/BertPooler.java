package dev.bertj.model;

import dev.bertj.backend.Activation;
import dev.bertj.backend.Backend;
import dev.bertj.backend.Buf;
import dev.bertj.nn.Gradients;
import dev.bertj.nn.Linear;

/**
 * {@code pooler}: {@code tanh(dense(hidden[:, 0]))}, the [CLS] token's state.
 * <pre>
 * backward: dcls = dense'(dpooled * (1 - pooled^2));  dhidden[:, 0] += dcls
 * </pre>
 */
public final class BertPooler {
    final Linear dense;

    /** What backward needs (kept at inference too: it is two small buffers). */
    record Ctx(Buf cls, Buf pooled, int batch, int seq) { }

    BertPooler(BertConfig c, WeightSource w) {
        int h = c.hiddenSize();
        dense = new Linear(w.get("pooler.dense.weight", WeightSource.Init.NORMAL, h, h), w.get("pooler.dense.bias", WeightSource.Init.ZEROS, h));
    }

    /** {@code out = tanh(dense(hiddenStates[:, 0]))} ([B, H]). */
    Ctx forward(Backend be, Buf hiddenStates, int batch, int seq, Buf out) {
        int h = dense.in();
        Buf cls = be.floats(batch * h);
        be.copyRows(hiddenStates, 0, seq * h, cls, 0, h, batch, h, false);
        be.linear(cls, batch, dense, out, Activation.TANH);
        return new Ctx(cls, out, batch, seq);
    }

    /** Backward: adds the [CLS] rows' gradient into {@code dHiddenStates}; {@code dPooled} is consumed. */
    void backward(Backend be, Ctx c, Buf dPooled, Buf dHiddenStates, Gradients g) {
        int h = dense.in();
        be.activationBackward(Activation.TANH, c.pooled, dPooled, c.batch * h);
        Buf dCls = be.floats(c.batch * h);
        dense.backward(be, "pooler.dense", c.cls, dPooled, 0, h, c.batch, dCls, false, g);
        be.copyRows(dCls, 0, h, dHiddenStates, 0, c.seq * h, c.batch, h, true);
    }
}
