package dev.bertj.model;

import dev.bertj.cpu.Kernels;
import dev.bertj.nn.LayerNorm;
import dev.bertj.nn.Linear;

/** {@code attention.output}: {@code LayerNorm(dense(context) + input)} (dropout before the add when training). */
public final class BertSelfOutput {
    final Linear dense;
    final LayerNorm layerNorm;

    BertSelfOutput(BertConfig c, WeightSource w, String prefix) {
        int h = c.hiddenSize();
        dense = new Linear(w.get(prefix + "dense.weight", WeightSource.Init.NORMAL, h, h), w.get(prefix + "dense.bias", WeightSource.Init.ZEROS, h));
        layerNorm = new LayerNorm(w.get(prefix + "LayerNorm.weight", WeightSource.Init.ONES, h),
                w.get(prefix + "LayerNorm.bias", WeightSource.Init.ZEROS, h), c.layerNormEps());
    }

    void forward(Kernels k, float[] context, float[] input, int rows, float[] out) {
        dense.forward(k, context, rows, out);
        layerNorm.forward(out, input, rows, out);
    }
}
