package dev.bertj.model;

import dev.bertj.cpu.Kernels;
import dev.bertj.nn.Activations;
import dev.bertj.nn.Linear;

/** {@code intermediate}: {@code act(dense(x))}, H → intermediate_size, act = config.hidden_act (exact erf GELU for BERT). */
public final class BertIntermediate {
    final Linear dense;
    private final String act;

    BertIntermediate(BertConfig c, WeightSource w, String prefix) {
        dense = new Linear(w.get(prefix + "dense.weight", WeightSource.Init.NORMAL, c.intermediateSize(), c.hiddenSize()),
                w.get(prefix + "dense.bias", WeightSource.Init.ZEROS, c.intermediateSize()));
        act = c.hiddenAct();
    }

    void forward(Kernels k, float[] x, int rows, float[] out) {
        dense.forward(k, x, rows, out);
        Activations.apply(act, out, rows * dense.out());
    }
}
