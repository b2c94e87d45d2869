package dev.bertj.model;

import dev.bertj.cpu.Kernels;
import dev.bertj.cpu.Parallel;
import dev.bertj.nn.Activations;
import dev.bertj.nn.Gradients;
import dev.bertj.nn.Linear;

/**
 * {@code intermediate}: {@code act(dense(x))}, H → intermediate_size, act = config.hidden_act
 * (exact erf GELU for BERT).
 * <pre>
 * backward: dx = dense'(dout * act'(dense(x)))
 * </pre>
 */
public final class BertIntermediate {
    final Linear dense;
    private final String act;
    private final String prefix;

    /** What backward needs: the input and the pre-activation. */
    record Ctx(float[] x, float[] pre, int rows) { }

    BertIntermediate(BertConfig c, WeightSource w, String prefix) {
        this.prefix = prefix;
        dense = new Linear(w.get(prefix + "dense.weight", WeightSource.Init.NORMAL, c.intermediateSize(), c.hiddenSize()),
                w.get(prefix + "dense.bias", WeightSource.Init.ZEROS, c.intermediateSize()));
        act = c.hiddenAct();
    }

    void forward(Kernels k, float[] x, int rows, float[] out) {
        if (act.equals("gelu")) {
            k.linearGelu(x, rows, dense.packed(k), dense.bias().data(), out);
            return;
        }
        dense.forward(k, x, rows, out);
        activate(k, out, rows * dense.out());
    }

    Ctx forwardTrain(Kernels k, float[] x, int rows, float[] out) {
        dense.forward(k, x, rows, out);
        float[] pre = Arena.floats(rows * dense.out());
        System.arraycopy(out, 0, pre, 0, pre.length);
        activate(k, out, rows * dense.out());
        return new Ctx(x, pre, rows);
    }

    /** BERT's exact GELU runs on the kernels, in parallel slices; other activations on {@link Activations}. */
    private void activate(Kernels k, float[] x, int n) {
        if (!act.equals("gelu")) {
            Activations.apply(act, x, n);
            return;
        }
        Parallel.forSlices(n, PARALLEL_FROM, (i, from, to) -> k.gelu(x, from, to - from));
    }

    /** Elements below which GELU runs on one thread. */
    private static final int PARALLEL_FROM = 1 << 15;

    /** Backward: {@code dOut} is consumed; {@code dx} receives d loss / d x. */
    void backward(Kernels k, Ctx c, float[] dOut, float[] dx, Gradients g) {
        int n = c.rows * dense.out();
        if (act.equals("gelu")) {
            Parallel.forSlices(n, PARALLEL_FROM, (i, from, to) -> k.geluBackward(c.pre, dOut, from, to - from));
        } else {
            Activations.backward(act, c.pre, dOut, n);
        }
        dense.backward(k, prefix + "dense", c.x, dOut, c.rows, dx, g);
    }
}
