package dev.bertj.model;

import dev.bertj.backend.Backend;
import dev.bertj.backend.Buf;
import dev.bertj.nn.Gradients;

/**
 * {@code encoder.layer.N.attention}: self-attention and its output block, as HF's BertAttention.
 * <pre>
 * out = LayerNorm(hidden_states + dropout(dense(SelfAttention(hidden_states))))
 * backward: the residual's gradient and self-attention's both flow into dhidden_states
 * </pre>
 */
public final class BertAttention {
    final BertSelfAttention self;
    final BertSelfOutput output;

    /** What backward needs, per block. */
    record Ctx(BertSelfAttention.Ctx self, BertSelfOutput.Ctx output, int rows) { }

    BertAttention(BertConfig c, WeightSource w, String prefix, int layer) {
        self = new BertSelfAttention(c, w, prefix + "self.", TrainMode.layerSite(layer, 0));
        output = new BertSelfOutput(c, w, prefix + "output.", TrainMode.layerSite(layer, 1));
    }

    /** Maps {@code hiddenStates} to {@code out} ([B*S, H], or [T, H] packed); {@code offsets}, {@code probsOut} and {@code train} as in {@link BertSelfAttention#forward}. */
    Ctx forward(Backend be, Buf hiddenStates, int[] mask, int batch, int seq, int[] offsets, Buf out, Buf probsOut, TrainMode train) {
        int rows = BertPadding.rows(offsets, batch, seq);
        Buf context = be.floats(rows * output.dense.in());
        BertSelfAttention.Ctx s = self.forward(be, hiddenStates, mask, batch, seq, offsets, context, probsOut, train);
        BertSelfOutput.Ctx o = output.forward(be, context, hiddenStates, rows, out, train);
        return train == null ? null : new Ctx(s, o, rows);
    }

    /** Backward: {@code dOut} is consumed; {@code dHiddenStates} receives (is overwritten with) d loss / d hidden_states. */
    void backward(Backend be, Ctx c, Buf dOut, Buf dHiddenStates, Gradients g) {
        int n = c.rows * output.dense.out();
        Buf dContext = be.floats(n);
        output.backward(be, c.output, dOut, dContext, dHiddenStates, g);
        Buf dFromSelf = be.floats(n);
        self.backward(be, c.self, dContext, dFromSelf, g);
        be.add(dHiddenStates, dFromSelf, n);
    }
}
