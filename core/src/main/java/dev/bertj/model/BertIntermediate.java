package dev.bertj.model;

import dev.bertj.backend.Backend;
import dev.bertj.backend.Buf;
import dev.bertj.nn.Gradients;
import dev.bertj.nn.Linear;

/**
 * {@code intermediate}: {@code act(dense(x))}, H → intermediate_size, act = config.hidden_act
 * (exact erf GELU for BERT, applied in the GEMM's epilogue at inference).
 * <pre>
 * backward: dx = dense'(dout * act'(dense(x)))
 * </pre>
 */
public final class BertIntermediate {
    final Linear dense;
    private final String act;
    private final String prefix;

    /** What backward needs: the input and the pre-activation. */
    record Ctx(Buf x, Buf pre, int rows) { }

    BertIntermediate(BertConfig c, WeightSource w, String prefix) {
        this.prefix = prefix;
        dense = new Linear(w.get(prefix + "dense.weight", WeightSource.Init.NORMAL, c.intermediateSize(), c.hiddenSize()),
                w.get(prefix + "dense.bias", WeightSource.Init.ZEROS, c.intermediateSize()));
        act = c.hiddenAct();
    }

    void forward(Backend be, Buf x, int rows, Buf out) {
        if (act.equals("gelu")) {
            be.linear(x, rows, dense, out, true);
            return;
        }
        be.linear(x, rows, dense, out, false);
        be.activation(act, out, rows * dense.out());
    }

    Ctx forwardTrain(Backend be, Buf x, int rows, Buf out) {
        int n = rows * dense.out();
        be.linear(x, rows, dense, out, false);
        Buf pre = be.floats(n);
        be.copyRows(out, 0, 0, pre, 0, 0, 1, n, false);
        be.activation(act, out, n);
        return new Ctx(x, pre, rows);
    }

    /** Backward: {@code dOut} is consumed; {@code dx} receives d loss / d x. */
    void backward(Backend be, Ctx c, Buf dOut, Buf dx, Gradients g) {
        be.activationBackward(act, c.pre, dOut, c.rows * dense.out());
        dense.backward(be, prefix + "dense", c.x, dOut, 0, dense.out(), c.rows, dx, false, g);
    }
}
