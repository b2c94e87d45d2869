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

    /** What backward needs; {@code offsets} not null when the rows were packed ({@link BertPadding}). */
    record Ctx(int[] ids, int[] types, int batch, int seq, int[] offsets, Buf xhat, Buf rstd, Mask keep) {
        int rows() {
            return BertPadding.rows(offsets, batch, seq);
        }
    }

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
        be.embeddings(ids, types, batch, seq, wordEmbeddings, positionEmbeddings, tokenTypeEmbeddings, out);
        return normalize(be, ids, types, batch, seq, null, out, train);
    }

    /**
     * The same on the real tokens only ({@link BertPadding}): the sums for the padded batch (positions
     * stay each token's index in its own row), then the real rows packed into {@code out} ([T, H]), and
     * LayerNorm and dropout on those T rows.
     */
    Ctx forwardUnpadded(Backend be, int[] ids, int[] types, int batch, int seq, int[] offsets, Buf out, TrainMode train) {
        check(ids, types, batch, seq);
        Buf sums = be.floats(batch * seq * hidden);
        be.embeddings(ids, types, batch, seq, wordEmbeddings, positionEmbeddings, tokenTypeEmbeddings, sums);
        BertPadding.unpad(be, sums, offsets, seq, hidden, out);
        dev.bertj.backend.Arena.free(sums);
        return normalize(be, ids, types, batch, seq, offsets, out, train);
    }

    private Ctx normalize(Backend be, int[] ids, int[] types, int batch, int seq, int[] offsets, Buf out, TrainMode train) {
        int rows = BertPadding.rows(offsets, batch, seq);
        Buf xhat = train == null ? null : be.floats(rows * hidden), rstd = train == null ? null : be.floats(rows);
        be.layerNorm(out, null, rows, layerNorm, out, xhat, rstd);
        if (train == null) return null;
        Mask keep = train.drop(be, out, rows * hidden, dropout, TrainMode.EMBEDDINGS);
        return new Ctx(ids, types, batch, seq, offsets, xhat, rstd, keep);
    }

    /** Backward; {@code dOut} ([rows, H] as in forward) is consumed (overwritten). */
    void backward(Backend be, Ctx ctx, Buf dOut, Gradients g) {
        int rows = ctx.rows();
        if (ctx.keep != null) be.dropoutBackward(dOut, rows * hidden, dropout, ctx.keep);
        be.layerNormBackward(layerNorm, ctx.xhat, ctx.rstd, dOut, rows, dOut, g.of("embeddings.LayerNorm.weight", layerNorm.weight()),
                g.of("embeddings.LayerNorm.bias", layerNorm.bias()));
        Buf d = dOut;
        if (ctx.offsets != null) {
            // The tables' scatter-add reads the padded layout; zero rows at the padding add nothing.
            d = be.floats(ctx.batch * ctx.seq * hidden);
            BertPadding.pad(be, dOut, ctx.offsets, ctx.seq, hidden, d);
        }
        be.embeddingsBackward(ctx.ids, ctx.types, ctx.batch, ctx.seq, hidden, d, g.of("embeddings.word_embeddings.weight", wordEmbeddings),
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
