package dev.bertj.model;

import dev.bertj.cpu.Kernels;
import dev.bertj.nn.LayerNorm;
import dev.bertj.nn.Linear;

/** {@code output}: {@code LayerNorm(dense(intermediate) + attention_output)}, intermediate_size → H. */
public final class BertOutput {
    final Linear dense;
    final LayerNorm layerNorm;

    BertOutput(BertConfig c, WeightSource w, String prefix) {
        int h = c.hiddenSize();
        dense = new Linear(w.get(prefix + "dense.weight", WeightSource.Init.NORMAL, h, c.intermediateSize()),
                w.get(prefix + "dense.bias", WeightSource.Init.ZEROS, h));
        layerNorm = new LayerNorm(w.get(prefix + "LayerNorm.weight", WeightSource.Init.ONES, h),
                w.get(prefix + "LayerNorm.bias", WeightSource.Init.ZEROS, h), c.layerNormEps());
    }

    void forward(Kernels k, float[] intermediate, float[] input, int rows, float[] out) {
        dense.forward(k, intermediate, rows, out);
        layerNorm.forward(out, input, rows, out);
    }
}
