package dev.bertj.nn;

import dev.bertj.backend.Activation;
import dev.bertj.backend.Backend;
import dev.bertj.backend.Backends;
import dev.bertj.backend.Buf;
import dev.bertj.cpu.HostMask;
import dev.bertj.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static dev.bertj.nn.FiniteDifferences.dot;
import static dev.bertj.nn.FiniteDifferences.randn;
import static dev.bertj.nn.FiniteDifferences.toDouble;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Finite differences, in double, against the float32 backward of every nn building block, run on the
 * CPU backend's operations (the arithmetic lives there): each
 * parameter gradient and each input gradient, for {@code L = sum(r * output)} with a fixed random
 * {@code r} (bertj's backward gets {@code dOut = r}), or the real mean loss for cross-entropy.
 * See {@link FiniteDifferences} for the method and the tolerance.
 */
class FiniteDifferenceNnTest {
    private static final Backend BE = Backends.cpu();
    private static final int ROWS = 10;

    @Test
    void linear() {
        for (boolean withBias : new boolean[] {true, false}) {
            SplittableRandom rnd = new SplittableRandom(1);
            int in = 8, out = 12;
            float[] w = randn(rnd, out * in, 0, 0.3), b = randn(rnd, out, 0, 0.3), x = randn(rnd, ROWS * in, 0, 1);
            float[] r = randn(rnd, ROWS * out, 0, 1);
            Linear lin = new Linear(new Tensor(w, out, in), withBias ? new Tensor(b, out) : null);
            float[] y = new float[ROWS * out];
            BE.linear(h(x), ROWS, lin, h(y), null);
            Gradients g = new Gradients();
            float[] dx = new float[ROWS * in];
            lin.backward(BE, "lin", h(x), h(r.clone()), 0, out, ROWS, h(dx), false, g);

            double[] wd = toDouble(w), bd = withBias ? toDouble(b) : null, xd = toDouble(x);
            FiniteDifferences.Report rep = new FiniteDifferences.Report(withBias ? "Linear" : "Linear (no bias)");
            rep.forward("output", FiniteDifferences.linear(xd, ROWS, wd, bd, out), y);
            java.util.function.DoubleSupplier loss = () -> dot(r, FiniteDifferences.linear(xd, ROWS, wd, bd, out));
            rep.check("weight", wd, g.get("lin.weight"), loss);
            if (withBias) rep.check("bias", bd, g.get("lin.bias"), loss);
            else assertNull(g.get("lin.bias"), "no bias, no bias gradient");
            rep.check("input", xd, dx, loss);
            rep.verify();
        }
    }

    /** LayerNorm with the residual fused in (d/dx and d/dresidual are both dz), and without. */
    @Test
    void layerNorm() {
        for (boolean withResidual : new boolean[] {true, false}) {
            SplittableRandom rnd = new SplittableRandom(2);
            int h = 8;
            float eps = 1e-12f;
            float[] gamma = randn(rnd, h, 1, 0.3), beta = randn(rnd, h, 0, 0.3);
            float[] x = randn(rnd, ROWS * h, 0.5, 1), res = withResidual ? randn(rnd, ROWS * h, 0, 1) : null;
            float[] r = randn(rnd, ROWS * h, 0, 1);
            LayerNorm ln = new LayerNorm(new Tensor(gamma, h), new Tensor(beta, h), eps);
            float[] y = new float[ROWS * h];
            float[] xhat = new float[ROWS * h], rstd = new float[ROWS];
            BE.layerNorm(h(x), res == null ? null : h(res), ROWS, ln, h(y), h(xhat), h(rstd));
            float[] dz = new float[ROWS * h], dGamma = new float[h], dBeta = new float[h];
            BE.layerNormBackward(ln, h(xhat), h(rstd), h(r.clone()), ROWS, h(dz), h(dGamma), h(dBeta));

            double[] gd = toDouble(gamma), bd = toDouble(beta), xd = toDouble(x), rd = withResidual ? toDouble(res) : null;
            java.util.function.DoubleSupplier loss = () -> dot(r, FiniteDifferences.layerNorm(xd, rd, ROWS, gd, bd, eps));
            FiniteDifferences.Report rep = new FiniteDifferences.Report(withResidual ? "LayerNorm (residual)" : "LayerNorm");
            rep.forward("output", FiniteDifferences.layerNorm(xd, rd, ROWS, gd, bd, eps), y);
            rep.check("weight", gd, dGamma, loss);
            rep.check("bias", bd, dBeta, loss);
            rep.check("input", xd, dz, loss);
            if (withResidual) rep.check("residual", rd, dz, loss);
            rep.verify();
        }
    }

    /** The backend's activation backward for every activation, on inputs kept away from relu's kink. */
    @Test
    void activations() {
        for (Activation a : Activation.values()) {
            String act = a.hfName();
            SplittableRandom rnd = new SplittableRandom(3);
            int n = 64;
            float[] x = randn(rnd, n, 0, 1.5), r = randn(rnd, n, 0, 1);
            for (int i = 0; i < n; i++) if (Math.abs(x[i]) < 1e-2f) x[i] += 0.1f;
            float[] y = x.clone();
            BE.activation(a, h(y), n);
            float[] d = r.clone();
            BE.activationBackward(a, h(a.derivativeFrom() == Activation.Saved.INPUT ? x : y), h(d), n);

            double[] xd = toDouble(x);
            FiniteDifferences.Report rep = new FiniteDifferences.Report("Activations " + act);
            rep.forward("output", FiniteDifferences.activation(act, xd), y);
            rep.check("input", xd, d, () -> dot(r, FiniteDifferences.activation(act, xd)));
            rep.verify();
        }
    }

    /** Dropout with the mask forward drew, held fixed: the function differentiated is x -> x * keep / (1 - p). */
    @Test
    void dropout() {
        SplittableRandom rnd = new SplittableRandom(4);
        int n = 200;
        float p = 0.3f;
        float[] x = randn(rnd, n, 0, 1), r = randn(rnd, n, 0, 1);
        float[] y = x.clone();
        boolean[] keep = new boolean[n];
        BE.dropout(h(y), n, p, 123, 9, new HostMask(keep));
        int dropped = 0;
        for (boolean k : keep) if (!k) dropped++;
        assertTrue(dropped > 20 && dropped < 100, "dropped " + dropped + " of " + n);
        float[] d = r.clone();
        BE.dropoutBackward(h(d), n, p, new HostMask(keep));

        double[] xd = toDouble(x);
        java.util.function.DoubleSupplier loss = () -> dot(r, dropoutD(xd, keep, p));
        FiniteDifferences.Report rep = new FiniteDifferences.Report("Dropout p=0.3");
        rep.forward("output", dropoutD(xd, keep, p), y);
        rep.check("input", xd, d, loss);
        rep.verify();
        // p = 0: identity.
        float[] z = x.clone();
        BE.dropout(h(z), n, 0f, 123, 9, new HostMask(new boolean[n]));
        assertTrue(java.util.Arrays.equals(x, z));
    }

    private static double[] dropoutD(double[] x, boolean[] keep, float p) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = keep[i] ? x[i] / (1 - (double) p) : 0;
        return y;
    }

    /** Mean cross-entropy over labelled rows: ignore_index -100 rows get no gradient and do not count. */
    @Test
    void crossEntropy() {
        SplittableRandom rnd = new SplittableRandom(5);
        int rows = 5, classes = 3;
        int[] labels = {2, -100, 0, 1, -100};
        float[] logits = randn(rnd, rows * classes, 0, 2);
        float[] d = new float[rows * classes];
        float loss = BE.crossEntropy(h(logits), rows, classes, labels, h(d));
        assertEquals(loss, BE.crossEntropy(h(logits), rows, classes, labels, null), "the loss alone equals the loss with its gradient");

        double[] ld = toDouble(logits);
        FiniteDifferences.Report rep = new FiniteDifferences.Report("CrossEntropy (ignore_index)");
        rep.forward("loss", new double[] {FiniteDifferences.crossEntropy(ld, rows, classes, labels)}, new float[] {loss});
        rep.check("logits", ld, d, () -> FiniteDifferences.crossEntropy(ld, rows, classes, labels));
        rep.verify();
        for (int c = 0; c < classes; c++) {
            assertEquals(0f, d[classes + c], "ignored row 1");
            assertEquals(0f, d[4 * classes + c], "ignored row 4");
        }
    }

    private static Buf h(float[] a) {
        return BE.wrap(a);
    }
}
