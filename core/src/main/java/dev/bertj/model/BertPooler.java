package dev.bertj.model;

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

    /** What backward needs. */
    record Ctx(Buf cls, Buf pooled, int batch, int seq) { }

    BertPooler(BertConfig c, WeightSource w) {
        int h = c.hiddenSize();
        dense = new Linear(w.get("pooler.dense.weight", WeightSource.Init.NORMAL, h, h), w.get("pooler.dense.bias", WeightSource.Init.ZEROS, h));
    }

    Ctx forward(Backend be, Buf hidden, int batch, int seq, Buf out) {
        int h = dense.in();
        Buf cls = be.floats(batch * h);
        be.copyRows(hidden, 0, seq * h, cls, 0, h, batch, h, false);
        be.linear(cls, batch, dense, out, false);
        be.activation("tanh", out, batch * h);
        return new Ctx(cls, out, batch, seq);
    }

    /** Backward: adds the [CLS] rows' gradient into {@code dHidden}; {@code dPooled} is consumed. */
    void backward(Backend be, Ctx c, Buf dPooled, Buf dHidden, Gradients g) {
        int h = dense.in();
        be.tanhBackward(c.pooled, dPooled, c.batch * h);
        Buf dCls = be.floats(c.batch * h);
        dense.backward(be, "pooler.dense", c.cls, dPooled, 0, h, c.batch, dCls, false, g);
        be.copyRows(dCls, 0, h, dHidden, 0, c.seq * h, c.batch, h, true);
    }
}
