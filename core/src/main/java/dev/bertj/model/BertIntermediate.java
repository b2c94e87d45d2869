package dev.bertj.model;

import dev.bertj.backend.Activation;
import dev.bertj.backend.Backend;
import dev.bertj.backend.Buf;
import dev.bertj.nn.Gradients;
import dev.bertj.nn.Linear;

/**
 * {@code intermediate}: {@code act(dense(x))}, H → intermediate_size, act = config.hidden_act
 * (exact erf GELU for BERT, applied in the GEMM's epilogue at inference).
 * <pre>
 * backward: dx = dense'(dout * act'(saved)),  saved = dense(x) or act(dense(x)) as the activation needs
 * </pre>
 */
public final class BertIntermediate {
    final Linear dense;
    private final Activation act;
    private final String prefix;

    /** What backward needs: the input, and the activation's input or output ({@link Activation#derivativeFrom()}). */
    record Ctx(Buf hiddenStates, Buf saved, int rows) { }

    BertIntermediate(BertConfig c, WeightSource w, String prefix) {
        this.prefix = prefix;
        dense = new Linear(w.get(prefix + "dense.weight", WeightSource.Init.NORMAL, c.intermediateSize(), c.hiddenSize()),
                w.get(prefix + "dense.bias", WeightSource.Init.ZEROS, c.intermediateSize()));
        act = c.activation();
    }

    /** {@code out = act(dense(hiddenStates))}; {@code train} null for inference (activation fused, no context). */
    Ctx forward(Backend be, Buf hiddenStates, int rows, Buf out, TrainMode train) {
        if (train == null) {
            be.linear(hiddenStates, rows, dense, out, act);
            return null;
        }
        int n = rows * dense.out();
        be.linear(hiddenStates, rows, dense, out, null);
        Buf saved = be.floats(n);
        if (act.derivativeFrom() == Activation.Saved.INPUT) be.copy(out, saved, n);
        be.activation(act, out, n);
        if (act.derivativeFrom() == Activation.Saved.OUTPUT) be.copy(out, saved, n);
        return new Ctx(hiddenStates, saved, rows);
    }

    /** Backward: {@code dOut} is consumed; {@code dHiddenStates} receives (is overwritten with) d loss / d hidden_states. */
    void backward(Backend be, Ctx c, Buf dOut, Buf dHiddenStates, Gradients g) {
        be.activationBackward(act, c.saved, dOut, c.rows * dense.out());
        dense.backward(be, prefix + "dense", c.hiddenStates, dOut, 0, dense.out(), c.rows, dHiddenStates, false, g);
    }
}
