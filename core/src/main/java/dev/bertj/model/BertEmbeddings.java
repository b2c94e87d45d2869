package dev.bertj.model;

import dev.bertj.nn.LayerNorm;
import dev.bertj.tensor.Tensor;

/**
 * {@code embeddings}: word + position + token-type embeddings, then LayerNorm (and dropout when
 * training). Positions are 0..S-1 for every row, as in HF's absolute position embeddings.
 */
public final class BertEmbeddings {
    final Tensor wordEmbeddings;
    final Tensor positionEmbeddings;
    final Tensor tokenTypeEmbeddings;
    final LayerNorm layerNorm;
    private final int hidden;

    BertEmbeddings(BertConfig c, WeightSource w) {
        hidden = c.hiddenSize();
        wordEmbeddings = w.get("embeddings.word_embeddings.weight", WeightSource.Init.NORMAL, c.vocabSize(), hidden);
        positionEmbeddings = w.get("embeddings.position_embeddings.weight", WeightSource.Init.NORMAL, c.maxPositionEmbeddings(), hidden);
        tokenTypeEmbeddings = w.get("embeddings.token_type_embeddings.weight", WeightSource.Init.NORMAL, c.typeVocabSize(), hidden);
        layerNorm = new LayerNorm(w.get("embeddings.LayerNorm.weight", WeightSource.Init.ONES, hidden),
                w.get("embeddings.LayerNorm.bias", WeightSource.Init.ZEROS, hidden), c.layerNormEps());
    }

    /** {@code out[b,s,:] = LayerNorm(word[ids[b,s]] + position[s] + type[types[b,s]])}. */
    void forward(int[] ids, int[] types, int batch, int seq, float[] out) {
        float[] wd = wordEmbeddings.data(), pd = positionEmbeddings.data(), td = tokenTypeEmbeddings.data();
        int vocab = wordEmbeddings.dim(0), nTypes = tokenTypeEmbeddings.dim(0);
        for (int b = 0; b < batch; b++) {
            for (int s = 0; s < seq; s++) {
                int r = b * seq + s;
                int id = ids[r], t = types == null ? 0 : types[r];
                if (id < 0 || id >= vocab) throw new IllegalArgumentException("input_ids[" + b + "][" + s + "] = " + id + " is outside the vocabulary (0.." + (vocab - 1) + ")");
                if (t < 0 || t >= nTypes) throw new IllegalArgumentException("token_type_ids[" + b + "][" + s + "] = " + t + " is outside 0.." + (nTypes - 1));
                int o = r * hidden;
                for (int i = 0; i < hidden; i++) out[o + i] = wd[id * hidden + i] + pd[s * hidden + i] + td[t * hidden + i];
            }
        }
        layerNorm.forward(out, null, batch * seq, out);
    }
}
