package dev.bertj.model;

import dev.bertj.backend.Backend;
import dev.bertj.backend.Buf;
import dev.bertj.backend.LayerOps.AttentionShape;
import dev.bertj.backend.Mask;
import dev.bertj.nn.FusedLinear;
import dev.bertj.nn.Gradients;
import dev.bertj.nn.Linear;

import java.util.List;

/**
 * {@code attention.self}: multi-head scaled dot-product attention, bidirectional (no causal mask),
 * with HF's additive padding mask.
 * <pre>
 * q, k, v = x Wq^T + bq, x Wk^T + bk, x Wv^T + bv          split into heads of size d = H / heads
 * scores[b,h,s,t] = q[b,s,h,:] . k[b,t,h,:] / sqrt(d) + (1 - mask[b,t]) * float32.min
 * P = softmax over t;  P' = dropout(P);  context[b,s,h,:] = sum_t P'[b,h,s,t] * v[b,t,h,:]
 *
 * backward:  dP'[s,t] = dctx[s] . v[t];   dv[t] += sum_s P'[s,t] dctx[s];   dP = dropout'(dP')
 *            dscore[s,t] = P[s,t] * (dP[s,t] - sum_t' P[s,t'] dP[s,t'])      (softmax')
 *            dq[s] = sum_t dscore[s,t] k[t] / sqrt(d);   dk[t] = sum_s dscore[s,t] q[s] / sqrt(d)
 *            dx = dq Wq + dk Wk + dv Wv
 * </pre>
 * q, k and v come from one fused projection ({@link FusedLinear}); the scores, softmax and
 * context are one backend operation ({@link Backend#attention}), per head on the CPU and batched on a GPU.
 */
public final class BertSelfAttention {
    final Linear query;
    final Linear key;
    final Linear value;
    private final FusedLinear qkvProjection;
    private final String prefix;
    private final int heads;
    private final int headDim;
    private final float dropout;
    private final int site;

    /**
     * What backward needs: the input, q|k|v rows ([rows, 3H]), probabilities before dropout, the dropout
     * mask, and the packed rows' offsets (null for a padded batch).
     */
    record Ctx(Buf hiddenStates, Buf qkv, Buf probs, Mask keep, AttentionShape shape, int[] offsets) {
        int rows() {
            return BertPadding.rows(offsets, shape.batch(), shape.seq());
        }
    }

    BertSelfAttention(BertConfig c, WeightSource w, String prefix, int site) {
        int h = c.hiddenSize();
        this.prefix = prefix;
        this.site = site;
        heads = c.numAttentionHeads();
        headDim = h / heads;
        dropout = c.attentionProbsDropoutProb();
        query = new Linear(w.get(prefix + "query.weight", WeightSource.Init.NORMAL, h, h), w.get(prefix + "query.bias", WeightSource.Init.ZEROS, h));
        key = new Linear(w.get(prefix + "key.weight", WeightSource.Init.NORMAL, h, h), w.get(prefix + "key.bias", WeightSource.Init.ZEROS, h));
        value = new Linear(w.get(prefix + "value.weight", WeightSource.Init.NORMAL, h, h), w.get(prefix + "value.bias", WeightSource.Init.ZEROS, h));
        qkvProjection = new FusedLinear(List.of(query, key, value));
    }

    /**
     * Attention of {@code hiddenStates} ([B*S, H]) into {@code context} ([B*S, H]); {@code probsOut}, if
     * not null, receives the probabilities {@code [B, heads, S, S]} before dropout. With {@code train}
     * null (inference) there is no dropout and no context. With {@code offsets} not null the rows are
     * packed, padding-free ({@link BertPadding}): sequence b is rows {@code [offsets[b], offsets[b + 1])}
     * and attends to those alone, with no mask; in training its probabilities and dropout mask keep the
     * padded layout, so they equal the padded pass's on every real token.
     */
    Ctx forward(Backend be, Buf hiddenStates, int[] mask, int batch, int seq, int[] offsets, Buf context, Buf probsOut, TrainMode train) {
        if (offsets != null && probsOut != null) throw new IllegalArgumentException("packed rows do not return attention probabilities");
        AttentionShape shape = new AttentionShape(batch, seq, heads, headDim);
        int rows = BertPadding.rows(offsets, batch, seq);
        Buf qkv = be.floats(rows * 3 * shape.hidden());
        be.linear(hiddenStates, rows, qkvProjection.parts(), qkv);
        if (train == null) {
            if (offsets != null) be.attentionPacked(heads, headDim, offsets, qkv, context);
            else be.attention(shape, qkv, mask, context, probsOut, 0f, 0, 0, null);
            return null;
        }
        int n = batch * heads * seq * seq;
        Buf probs = probsOut != null ? probsOut : be.floats(n);
        boolean drops = train.drops(dropout);
        Mask keep = drops ? be.mask(n) : null;
        float p = drops ? dropout : 0f;
        if (offsets != null) be.attentionPackedTrain(shape, offsets, qkv, context, probs, p, train.seed(), train.site(site), keep);
        else be.attention(shape, qkv, mask, context, probs, p, train.seed(), train.site(site), keep);
        return new Ctx(hiddenStates, qkv, probs, keep, shape, offsets);
    }

    /** Backward: {@code dHiddenStates} receives (is overwritten with) d loss / d hidden_states for {@code dContext}. */
    void backward(Backend be, Ctx c, Buf dContext, Buf dHiddenStates, Gradients g) {
        int hidden = heads * headDim, ld = 3 * hidden, rows = c.rows();
        Buf dqkv = be.floats(rows * ld);
        if (c.offsets != null) be.attentionPackedBackward(c.shape, c.offsets, c.qkv, c.probs, c.keep, dropout, dContext, dqkv);
        else be.attentionBackward(c.shape, c.qkv, c.probs, c.keep, dropout, dContext, dqkv);
        query.backward(be, prefix + "query", c.hiddenStates, dqkv, 0, ld, rows, dHiddenStates, false, g);
        key.backward(be, prefix + "key", c.hiddenStates, dqkv, hidden, ld, rows, dHiddenStates, true, g);
        value.backward(be, prefix + "value", c.hiddenStates, dqkv, 2 * hidden, ld, rows, dHiddenStates, true, g);
    }
}
