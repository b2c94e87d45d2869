package dev.bertj.model;

import dev.bertj.nn.Dropout;
import dev.bertj.nn.Gradients;
import dev.bertj.nn.LayerNorm;
import dev.bertj.tensor.Tensor;

/**
 * {@code embeddings}: word + position + token-type embeddings, then LayerNorm and dropout.
 * Positions are 0..S-1 for every row, as in HF's absolute position embeddings.
 * <pre>
 * forward:  e[b,s] = word[ids[b,s]] + position[s] + type[types[b,s]];  out = dropout(LayerNorm(e))
 * backward: de = LayerNorm'(dropout'(dout));  scatter-add de into the three tables' rows
 * </pre>
 */
public final class BertEmbeddings {
    final Tensor wordEmbeddings;
    final Tensor positionEmbeddings;
    final Tensor tokenTypeEmbeddings;
    final LayerNorm layerNorm;
    private final int hidden;
    private final float dropout;

    /** What backward needs. */
    record Ctx(int[] ids, int[] types, int batch, int seq, LayerNorm.Ctx norm, boolean[] keep) { }

    BertEmbeddings(BertConfig c, WeightSource w) {
        hidden = c.hiddenSize();
        dropout = c.hiddenDropoutProb();
        wordEmbeddings = w.get("embeddings.word_embeddings.weight", WeightSource.Init.NORMAL, c.vocabSize(), hidden);
        positionEmbeddings = w.get("embeddings.position_embeddings.weight", WeightSource.Init.NORMAL, c.maxPositionEmbeddings(), hidden);
        tokenTypeEmbeddings = w.get("embeddings.token_type_embeddings.weight", WeightSource.Init.NORMAL, c.typeVocabSize(), hidden);
        layerNorm = new LayerNorm(w.get("embeddings.LayerNorm.weight", WeightSource.Init.ONES, hidden),
                w.get("embeddings.LayerNorm.bias", WeightSource.Init.ZEROS, hidden), c.layerNormEps());
    }

    /** Inference: {@code out[b,s,:] = LayerNorm(word[ids[b,s]] + position[s] + type[types[b,s]])}. */
    void forward(int[] ids, int[] types, int batch, int seq, float[] out) {
        sum(ids, types, batch, seq, out);
        layerNorm.forward(out, null, batch * seq, out);
    }

    Ctx forwardTrain(int[] ids, int[] types, int batch, int seq, float[] out, TrainMode mode) {
        sum(ids, types, batch, seq, out);
        LayerNorm.Ctx norm = layerNorm.forwardTrain(out, null, batch * seq, out, Arena.floats(batch * seq * hidden), Arena.floats(batch * seq));
        boolean[] keep = mode.drop(out, batch * seq * hidden, dropout, TrainMode.EMBEDDINGS);
        return new Ctx(ids, types, batch, seq, norm, keep);
    }

    /** Backward; {@code dOut} is consumed (overwritten). */
    void backward(Ctx ctx, float[] dOut, Gradients g) {
        int rows = ctx.batch * ctx.seq;
        Dropout.backward(dOut, rows * hidden, dropout, ctx.keep);
        layerNorm.backward(ctx.norm, dOut, rows, dOut, g.of("embeddings.LayerNorm.weight", layerNorm.weight()),
                g.of("embeddings.LayerNorm.bias", layerNorm.bias()));
        float[] dw = g.of("embeddings.word_embeddings.weight", wordEmbeddings);
        float[] dp = g.of("embeddings.position_embeddings.weight", positionEmbeddings);
        float[] dt = g.of("embeddings.token_type_embeddings.weight", tokenTypeEmbeddings);
        for (int r = 0; r < rows; r++) {
            int id = ctx.ids[r], s = r % ctx.seq, t = ctx.types == null ? 0 : ctx.types[r];
            for (int i = 0; i < hidden; i++) {
                float d = dOut[r * hidden + i];
                dw[id * hidden + i] += d;
                dp[s * hidden + i] += d;
                dt[t * hidden + i] += d;
            }
        }
    }

    private void sum(int[] ids, int[] types, int batch, int seq, float[] out) {
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
    }
}
