package dev.bertj.model;

import dev.bertj.backend.Arena;
import dev.bertj.backend.Backend;
import dev.bertj.backend.Buf;
import dev.bertj.nn.Gradients;

/**
 * {@code encoder.layer.N}: the attention block, then the feed-forward block.
 * <pre>
 * a = attention(x) = LayerNorm(x + dropout(dense(SelfAttention(x))))
 * y = output(intermediate(a), a) = LayerNorm(a + dropout(dense(act(dense(a)))))
 * backward runs the same blocks in reverse; each residual adds its gradient to the block's input.
 * </pre>
 */
public final class BertLayer {
    final BertAttention attention;
    final BertIntermediate intermediate;
    final BertOutput output;
    private final int hidden;
    private final int inter;

    /** What backward needs, per block. */
    record Ctx(BertAttention.Ctx attention, BertIntermediate.Ctx intermediate, BertSelfOutput.Ctx output, int rows) { }

    BertLayer(BertConfig c, WeightSource w, int index) {
        String p = "encoder.layer." + index + ".";
        attention = new BertAttention(c, w, p + "attention.", index);
        intermediate = new BertIntermediate(c, w, p + "intermediate.");
        output = new BertOutput(c, w, p + "output.", TrainMode.layerSite(index, 2));
        hidden = c.hiddenSize();
        inter = c.intermediateSize();
    }

    /**
     * Maps {@code hiddenStates} to {@code out} (distinct buffers of [B*S, H]), scratch from the backend's
     * arena; {@code offsets}, {@code probsOut} and {@code train} as in {@link BertSelfAttention#forward}.
     */
    Ctx forward(Backend be, Buf hiddenStates, int[] mask, int batch, int seq, int[] offsets, Buf out, Buf probsOut, TrainMode train) {
        int rows = BertPadding.rows(offsets, batch, seq);
        Buf attentionOutput = be.floats(rows * hidden);
        BertAttention.Ctx a = attention.forward(be, hiddenStates, mask, batch, seq, offsets, attentionOutput, probsOut, train);
        Buf intermediateOutput = be.floats(rows * inter);
        BertIntermediate.Ctx m = intermediate.forward(be, attentionOutput, rows, intermediateOutput, train);
        BertSelfOutput.Ctx o = output.forward(be, intermediateOutput, attentionOutput, rows, out, train);
        return train == null ? null : new Ctx(a, m, o, rows);
    }

    /** Backward: {@code dOut} is consumed; returns d loss / d hidden_states (its scratch back in the arena). */
    Buf backward(Backend be, Ctx c, Buf dOut, Gradients g) {
        int rows = c.rows, n = rows * hidden, mark = Arena.mark();
        Buf dIntermediate = be.floats(rows * inter), dAttentionOutput = be.floats(n);
        output.backward(be, c.output, dOut, dIntermediate, dAttentionOutput, g);
        Buf dFromIntermediate = be.floats(n);
        intermediate.backward(be, c.intermediate, dIntermediate, dFromIntermediate, g);
        be.add(dAttentionOutput, dFromIntermediate, n);
        Buf dHiddenStates = be.floats(n);
        attention.backward(be, c.attention, dAttentionOutput, dHiddenStates, g);
        Arena.release(mark, dHiddenStates);
        return dHiddenStates;
    }
}
