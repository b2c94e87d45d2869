package dev.bertj.model;

import dev.bertj.cpu.Kernels;
import dev.bertj.nn.Linear;

/** {@code pooler}: {@code tanh(dense(hidden[:, 0]))}, the [CLS] token's state. */
public final class BertPooler {
    final Linear dense;

    BertPooler(BertConfig c, WeightSource w) {
        int h = c.hiddenSize();
        dense = new Linear(w.get("pooler.dense.weight", WeightSource.Init.NORMAL, h, h), w.get("pooler.dense.bias", WeightSource.Init.ZEROS, h));
    }

    void forward(Kernels k, float[] hidden, int batch, int seq, float[] out) {
        int h = dense.in();
        float[] cls = new float[batch * h];
        for (int b = 0; b < batch; b++) System.arraycopy(hidden, b * seq * h, cls, b * h, h);
        dense.forward(k, cls, batch, out);
        for (int i = 0; i < batch * h; i++) out[i] = (float) Math.tanh(out[i]);
    }
}
