package dev.bertj.model;

import dev.bertj.cpu.Kernels;
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
    record Ctx(float[] cls, float[] pooled, int batch, int seq) { }

    BertPooler(BertConfig c, WeightSource w) {
        int h = c.hiddenSize();
        dense = new Linear(w.get("pooler.dense.weight", WeightSource.Init.NORMAL, h, h), w.get("pooler.dense.bias", WeightSource.Init.ZEROS, h));
    }

    Ctx forward(Kernels k, float[] hidden, int batch, int seq, float[] out) {
        int h = dense.in();
        float[] cls = new float[batch * h];
        for (int b = 0; b < batch; b++) System.arraycopy(hidden, b * seq * h, cls, b * h, h);
        dense.forward(k, cls, batch, out);
        for (int i = 0; i < batch * h; i++) out[i] = (float) Math.tanh(out[i]);
        return new Ctx(cls, out, batch, seq);
    }

    /** Backward: adds the [CLS] rows' gradient into {@code dHidden}; {@code dPooled} is consumed. */
    void backward(Kernels k, Ctx c, float[] dPooled, float[] dHidden, Gradients g) {
        int h = dense.in();
        for (int i = 0; i < c.batch * h; i++) dPooled[i] *= 1 - c.pooled[i] * c.pooled[i];
        float[] dCls = new float[c.batch * h];
        dense.backward(k, "pooler.dense", c.cls, dPooled, c.batch, dCls, g);
        for (int b = 0; b < c.batch; b++) {
            for (int i = 0; i < h; i++) dHidden[b * c.seq * h + i] += dCls[b * h + i];
        }
    }
}
