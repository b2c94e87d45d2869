package dev.bertj.backend;

import java.util.List;

/** What an optimizer step needs on the device: gradient norms for clipping, and the AdamW update. */
public interface OptimizerOps {
    /** The sum of squares of {@code x[0, n)}, accumulated in double. */
    double sumSquares(Buf x, int n);

    /** {@link #sumSquares(Buf, int)} of each whole buffer (a GPU reads all of them back at once). */
    default double[] sumSquares(List<Buf> xs) {
        double[] out = new double[xs.size()];
        for (int i = 0; i < out.length; i++) out[i] = sumSquares(xs.get(i), xs.get(i).size());
        return out;
    }

    /** PyTorch's AdamW update of one parameter {@code p[0, n)} in place, with its gradient and moments. */
    void adamw(Buf p, Buf g, Buf m, Buf v, int n, AdamWStep step);

    /** One parameter's part of an optimizer step: {@link #adamw(Buf, Buf, Buf, Buf, int, AdamWStep)}'s arguments. */
    record AdamWUpdate(Buf p, Buf g, Buf m, Buf v, int n, AdamWStep step) { }

    /**
     * Every parameter's AdamW update of one optimizer step, each exactly as {@link #adamw(Buf, Buf, Buf,
     * Buf, int, AdamWStep)} does it; a backend may run them as one pass (the CPU hands out slices of all
     * parameters' elements to its workers at once, instead of one parallel loop per tensor).
     */
    default void adamw(List<AdamWUpdate> updates) {
        for (AdamWUpdate u : updates) adamw(u.p(), u.g(), u.m(), u.v(), u.n(), u.step());
    }
}
