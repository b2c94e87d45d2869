package dev.bertj.model;

import dev.bertj.backend.Arena;
import dev.bertj.backend.Backend;
import dev.bertj.backend.Buf;
import dev.bertj.nn.Gradients;
import dev.bertj.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code encoder}: the stack of {@link BertLayer}s ({@code encoder.layer.N}), each one's output the
 * next one's input.
 */
public final class BertEncoder {
    final List<BertLayer> layer;
    private final int hidden;
    private final int heads;

    BertEncoder(BertConfig c, WeightSource w) {
        hidden = c.hiddenSize();
        heads = c.numAttentionHeads();
        List<BertLayer> ls = new ArrayList<>();
        for (int i = 0; i < c.numHiddenLayers(); i++) ls.add(new BertLayer(c, w, i));
        layer = List.copyOf(ls);
    }

    /**
     * Runs every layer from {@code x} (the embeddings' output); the last layer writes into {@code out}.
     * With {@code train} null (inference) each layer's input and scratch go back to the arena as soon as
     * the layer is done, so inference holds about one layer's buffers, and null is returned; in training
     * everything is kept and each layer's context returned. {@code hiddenStates} and {@code attentions},
     * when not null, receive host copies of each layer's output and attention probabilities.
     */
    List<BertLayer.Ctx> forward(Backend be, Buf x, int[] mask, int batch, int seq, Buf out, TrainMode train,
                                List<Tensor> hiddenStates, List<Tensor> attentions) {
        return forward(be, x, mask, batch, seq, null, out, train, hiddenStates, attentions);
    }

    /**
     * The pass on packed rows ({@link BertPadding}): {@code x} and {@code out} hold the real tokens only,
     * sequence b in rows {@code [offsets[b], offsets[b + 1])}; {@code train} and the result as in
     * {@link #forward}.
     */
    List<BertLayer.Ctx> forwardUnpadded(Backend be, Buf x, int batch, int seq, int[] offsets, Buf out, TrainMode train) {
        return forward(be, x, null, batch, seq, offsets, out, train, null, null);
    }

    private List<BertLayer.Ctx> forward(Backend be, Buf x, int[] mask, int batch, int seq, int[] offsets, Buf out, TrainMode train,
                                        List<Tensor> hiddenStates, List<Tensor> attentions) {
        int h = hidden, rows = BertPadding.rows(offsets, batch, seq);
        List<BertLayer.Ctx> ctxs = train == null ? null : new ArrayList<>();
        for (int i = 0; i < layer.size(); i++) {
            int mark = Arena.mark();
            Buf y = i == layer.size() - 1 ? out : be.floats(rows * h);
            Buf probs = attentions != null ? be.floats(batch * heads * seq * seq) : null;
            BertLayer.Ctx c = layer.get(i).forward(be, x, mask, batch, seq, offsets, y, probs, train);
            if (hiddenStates != null) hiddenStates.add(new Tensor(be.download(y, new float[batch * seq * h]), batch, seq, h));
            if (attentions != null) attentions.add(new Tensor(be.download(probs, new float[batch * heads * seq * seq]), batch, heads, seq, seq));
            if (train == null) {
                Arena.release(mark, y);
                Arena.free(x);
            } else {
                ctxs.add(c);
            }
            x = y;
        }
        return ctxs;
    }

    /** Backward through every layer, last first: {@code dOut} is consumed; returns d loss / d (the embeddings' output). */
    Buf backward(Backend be, List<BertLayer.Ctx> ctxs, Buf dOut, Gradients g) {
        Buf d = dOut;
        for (int i = layer.size() - 1; i >= 0; i--) d = layer.get(i).backward(be, ctxs.get(i), d, g);
        return d;
    }
}
