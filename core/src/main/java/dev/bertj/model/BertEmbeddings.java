package dev.bertj.model;

import dev.bertj.backend.Backend;
import dev.bertj.backend.Buf;
import dev.bertj.backend.Mask;
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
    record Ctx(int[] ids, int[] types, int batch, int seq, Buf xhat, Buf rstd, Mask keep) { }

    BertEmbeddings(BertConfig c, WeightSource w) {
        hidden = c.hiddenSize();
        dropout = c.hiddenDropoutProb();
        wordEmbeddings = w.get("embeddings.word_embeddings.weight", WeightSource.Init.NORMAL, c.vocabSize(), hidden);
        positionEmbeddings = w.get("embeddings.position_embeddings.weight", WeightSource.Init.NORMAL, c.maxPositionEmbeddings(), hidden);
        tokenTypeEmbeddings = w.get("embeddings.token_type_embeddings.weight", WeightSource.Init.NORMAL, c.typeVocabSize(), hidden);
        layerNorm = new LayerNorm(w.get("embeddings.LayerNorm.weight", WeightSource.Init.ONES, hidden),
                w.get("embeddings.LayerNorm.bias", WeightSource.Init.ZEROS, hidden), c.layerNormEps());
    }

    /**
     * {@code out[b,s,:] = dropout(LayerNorm(word[ids[b,s]] + position[s] + type[types[b,s]]))} into
     * {@code out} ([B*S, H]); with {@code train} null (inference) no dropout and no context.
     */
    Ctx forward(Backend be, int[] ids, int[] types, int batch, int seq, Buf out, TrainMode train) {
        check(ids, types, batch, seq);
        int rows = batch * seq;
        be.embeddings(ids, types, batch, seq, wordEmbeddings, positionEmbeddings, tokenTypeEmbeddings, out);
        Buf xhat = train == null ? null : be.floats(rows * hidden), rstd = train == null ? null : be.floats(rows);
        be.layerNorm(out, null, rows, layerNorm, out, xhat, rstd);
        if (train == null) return null;
        Mask keep = train.drop(be, out, rows * hidden, dropout, TrainMode.EMBEDDINGS);
        return new Ctx(ids, types, batch, seq, xhat, rstd, keep);
    }

    /**
     * Inference on the real tokens only ({@link BertPadding}): the sums for the padded batch (positions
     * stay each token's index in its own row), then the real rows packed into {@code out} ([T, H]), and
     * LayerNorm on those T rows.
     */
    void forwardUnpadded(Backend be, int[] ids, int[] types, int batch, int seq, int[] offsets, Buf out) {
        check(ids, types, batch, seq);
        Buf sums = be.floats(batch * seq * hidden);
        be.embeddings(ids, types, batch, seq, wordEmbeddings, positionEmbeddings, tokenTypeEmbeddings, sums);
        BertPadding.unpad(be, sums, offsets, seq, hidden, out);
        dev.bertj.backend.Arena.free(sums);
        be.layerNorm(out, null, offsets[batch], layerNorm, out, null, null);
    }

    /** Backward; {@code dOut} is consumed (overwritten). */
    void backward(Backend be, Ctx ctx, Buf dOut, Gradients g) {
        int rows = ctx.batch * ctx.seq;
        if (ctx.keep != null) be.dropoutBackward(dOut, rows * hidden, dropout, ctx.keep);
        be.layerNormBackward(layerNorm, ctx.xhat, ctx.rstd, dOut, rows, dOut, g.of("embeddings.LayerNorm.weight", layerNorm.weight()),
                g.of("embeddings.LayerNorm.bias", layerNorm.bias()));
        be.embeddingsBackward(ctx.ids, ctx.types, ctx.batch, ctx.seq, hidden, dOut, g.of("embeddings.word_embeddings.weight", wordEmbeddings),
                g.of("embeddings.position_embeddings.weight", positionEmbeddings), g.of("embeddings.token_type_embeddings.weight", tokenTypeEmbeddings));
    }

    /** Every id must index its table: a bad one is named with its position rather than read out of bounds. */
    private void check(int[] ids, int[] types, int batch, int seq) {
        int vocab = wordEmbeddings.dim(0), nTypes = tokenTypeEmbeddings.dim(0);
        for (int r = 0; r < batch * seq; r++) {
            int id = ids[r], t = types == null ? 0 : types[r];
            if (id < 0 || id >= vocab) throw new IllegalArgumentException("input_ids[" + r / seq + "][" + r % seq + "] = " + id + " is outside the vocabulary (0.." + (vocab - 1) + ")");
            if (t < 0 || t >= nTypes) throw new IllegalArgumentException("token_type_ids[" + r / seq + "][" + r % seq + "] = " + t + " is outside 0.." + (nTypes - 1));
        }
    }
}
