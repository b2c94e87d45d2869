package dev.bertj.nn;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Finite-difference gradient checks of bertj's float32 backward against double precision.
 * <p>
 * The tests re-implement each layer's forward in double (straight from the math, not from bertj's
 * code), on the very same float weights (a float converts to double exactly), and take central
 * differences of a scalar objective {@code L} in double:
 * <pre>
 * fd[i] = (L(x + h e_i) - L(x - h e_i)) / 2h,   h = 1e-6
 * </pre>
 * With L of order 10 and double rounding, fd carries about 1e-9 absolute error, far below the
 * float32 error of the backward under test. Each tensor then has to satisfy, element by element,
 * <pre>
 * |bertj - fd| <= RTOL * |fd| + ATOL * max|fd|
 * </pre>
 * Also here: the double-precision building blocks shared by the nn and model tests.
 */
public final class FiniteDifferences {
    /** Central-difference step. */
    public static final double H = 1e-6;
    /** Element-wise relative tolerance. */
    public static final double RTOL = 1e-4;
    /** Absolute tolerance, as a fraction of the tensor's largest gradient. */
    public static final double ATOL = 1e-5;
    /** Largest allowed |double forward - bertj float forward|, before differentiating. */
    public static final double FORWARD_TOL = 1e-5;
    /** {@code -Dbertj.fd.verbose=true} prints every tensor's numbers, not only each test's worst. */
    private static final boolean VERBOSE = Boolean.getBoolean("bertj.fd.verbose");

    private FiniteDifferences() { }

    /**
     * One tensor's comparison.
     *
     * @param ratio max over elements of |err| / (RTOL |fd| + ATOL max|fd|): at most 1 to pass
     * @param normwise max|err| / max|fd|
     * @param elementwise max |err| / |fd| over the elements with |fd| >= 1e-2 max|fd| (0 for a vanishing gradient)
     */
    public record Stat(String tensor, int size, double maxFd, double maxErr, double ratio, double normwise, double elementwise) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%-58s n=%4d max|fd|=%9.3e max|err|=%9.3e norm-rel=%9.3e elem-rel=%9.3e tol-ratio=%6.4f",
                    tensor, size, maxFd, maxErr, normwise, elementwise, ratio);
        }
    }

    /**
     * Central differences of {@code loss} with respect to every element of {@code x} (perturbed in
     * place and restored).
     */
    public static double[] centralDifferences(double[] x, DoubleSupplier loss) {
        double[] fd = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double v = x[i];
            x[i] = v + H;
            double plus = loss.getAsDouble();
            x[i] = v - H;
            double minus = loss.getAsDouble();
            x[i] = v;
            fd[i] = (plus - minus) / (2 * H);
        }
        return fd;
    }

    /**
     * Compares {@code analytic} with {@code fd} (null {@code analytic}: bertj's backward never
     * reached the tensor, so its gradient is zero), with the absolute tolerance scaled by the
     * tensor's max|fd|, or by {@code vanishingScale} when that is positive (a tensor whose gradient
     * vanishes, held to the test's largest gradient instead).
     */
    public static Stat compare(String name, double[] fd, float[] analytic, double vanishingScale) {
        if (analytic != null && analytic.length != fd.length) {
            fail(name + ": gradient has " + analytic.length + " values, the tensor " + fd.length);
        }
        double maxFd = 0;
        for (double v : fd) maxFd = Math.max(maxFd, Math.abs(v));
        double scale = vanishingScale > 0 ? vanishingScale : maxFd;
        double maxErr = 0, ratio = 0, elementwise = 0;
        for (int i = 0; i < fd.length; i++) {
            double err = Math.abs((analytic == null ? 0 : analytic[i]) - fd[i]);
            maxErr = Math.max(maxErr, err);
            ratio = Math.max(ratio, err / (RTOL * Math.abs(fd[i]) + ATOL * scale));
            if (vanishingScale <= 0 && Math.abs(fd[i]) >= 1e-2 * maxFd) elementwise = Math.max(elementwise, err / Math.abs(fd[i]));
        }
        return new Stat(name, fd.length, maxFd, maxErr, ratio, maxErr / scale, elementwise);
    }

    /**
     * Collects the finite differences of one test, then compares, prints, and fails on any tensor
     * beyond tolerance. A tensor whose gradient vanishes (max|fd| below 1e-6 of the test's largest:
     * an attention key bias, which softmax's shift invariance cancels exactly; a pooler a head does
     * not use) is held to ATOL times the test's largest gradient: bertj must give float rounding
     * noise there, at most.
     */
    public static final class Report {
        private final String test;
        private final List<String> names = new ArrayList<>();
        private final List<double[]> fds = new ArrayList<>();
        private final List<float[]> analytics = new ArrayList<>();
        private double forwardDiff;

        public Report(String test) {
            this.test = test;
        }

        /** Checks that the double forward is bertj's float forward (to FORWARD_TOL), and records by how much. */
        public void forward(String what, double[] expected, float[] actual) {
            assertTrue(expected.length == actual.length, what + ": lengths " + expected.length + " vs " + actual.length);
            double d = 0;
            for (int i = 0; i < expected.length; i++) d = Math.max(d, Math.abs(expected[i] - actual[i]));
            forwardDiff = Math.max(forwardDiff, d);
            assertTrue(d <= FORWARD_TOL, test + ": double forward differs from bertj's " + what + " by " + d);
        }

        /** Finite differences of {@code loss} over {@code x}, to compare with bertj's {@code analytic} in {@link #verify}. */
        public void check(String name, double[] x, float[] analytic, DoubleSupplier loss) {
            names.add(name);
            fds.add(centralDifferences(x, loss));
            analytics.add(analytic);
        }

        /**
         * Prints the test's worst numbers (every tensor's with -Dbertj.fd.verbose=true, or on
         * failure), then asserts all tensors are within tolerance.
         */
        public void verify() {
            double global = 0;
            for (double[] fd : fds) for (double v : fd) global = Math.max(global, Math.abs(v));
            assertTrue(global > 0, test + ": no gradient at all");
            List<Stat> stats = new ArrayList<>();
            StringBuilder bad = new StringBuilder();
            double worstElem = 0, worstNorm = 0;
            Stat worst = null;
            for (int t = 0; t < names.size(); t++) {
                double maxFd = 0;
                for (double v : fds.get(t)) maxFd = Math.max(maxFd, Math.abs(v));
                boolean vanishing = maxFd < 1e-6 * global;
                Stat s = compare(names.get(t) + (vanishing ? " (zero)" : ""), fds.get(t), analytics.get(t), vanishing ? global : 0);
                stats.add(s);
                if (VERBOSE) System.out.println("  " + test + "  " + s);
                if (worst == null || s.ratio > worst.ratio) worst = s;
                worstElem = Math.max(worstElem, s.elementwise);
                worstNorm = Math.max(worstNorm, s.normwise);
                if (!(s.ratio <= 1)) bad.append("\n  ").append(s);
            }
            System.out.printf(Locale.ROOT, "FD %-38s %3d tensors  forward |d-f|=%8.2e  worst norm-rel=%8.2e elem-rel=%8.2e tol-ratio=%6.4f (%s)%n",
                    test, stats.size(), forwardDiff, worstNorm, worstElem, worst.ratio, worst.tensor);
            if (!bad.isEmpty()) {
                if (!VERBOSE) stats.forEach(x -> System.out.println("  " + test + "  " + x));
                fail(test + ": gradients beyond |bertj - fd| <= " + RTOL + "|fd| + " + ATOL + " max|fd|:" + bad);
            }
        }
    }

    // ---- random inputs ----------------------------------------------------------------------

    /** N(mean, std) values rounded to float. */
    public static float[] randn(SplittableRandom rnd, int n, double mean, double std) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (mean + std * rnd.nextGaussian());
        return a;
    }

    public static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }

    /** {@code sum r[i] * y[i]}: the objective whose gradient with respect to y is r. */
    public static double dot(float[] r, double[] y) {
        double s = 0;
        for (int i = 0; i < y.length; i++) s += r[i] * y[i];
        return s;
    }

    // ---- double-precision layers, from the math --------------------------------------------

    /** {@code y[r][o] = b[o] + sum_i x[r][i] W[o][i]}, W [out, in]; b may be null. */
    public static double[] linear(double[] x, int rows, double[] w, double[] b, int out) {
        int in = w.length / out;
        double[] y = new double[rows * out];
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double s = b == null ? 0 : b[o];
                for (int i = 0; i < in; i++) s += x[r * in + i] * w[o * in + i];
                y[r * out + o] = s;
            }
        }
        return y;
    }

    /** LayerNorm of {@code x + residual} (residual may be null) over rows of {@code g.length}, biased variance. */
    public static double[] layerNorm(double[] x, double[] residual, int rows, double[] g, double[] b, double eps) {
        int h = g.length;
        double[] y = new double[rows * h];
        for (int r = 0; r < rows; r++) {
            double mean = 0;
            for (int i = 0; i < h; i++) mean += x[r * h + i] + (residual == null ? 0 : residual[r * h + i]);
            mean /= h;
            double var = 0;
            for (int i = 0; i < h; i++) {
                double d = x[r * h + i] + (residual == null ? 0 : residual[r * h + i]) - mean;
                var += d * d;
            }
            double rstd = 1 / Math.sqrt(var / h + eps);
            for (int i = 0; i < h; i++) {
                double z = x[r * h + i] + (residual == null ? 0 : residual[r * h + i]);
                y[r * h + i] = (z - mean) * rstd * g[i] + b[i];
            }
        }
        return y;
    }

    /** An activation by its HF name: exact (erf) GELU, the tanh GELU, relu, tanh. */
    public static double activation(String act, double x) {
        return switch (act) {
            // Activation.erf is the 1e-15 reference (checked against libm in ActivationTest), not the fast A&S one.
            case "gelu" -> 0.5 * x * (1 + dev.bertj.backend.Activation.erf(x / Math.sqrt(2)));
            case "gelu_new", "gelu_pytorch_tanh" -> 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
            case "relu" -> Math.max(0, x);
            case "tanh" -> Math.tanh(x);
            default -> throw new IllegalArgumentException(act);
        };
    }

    public static double[] activation(String act, double[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = activation(act, x[i]);
        return y;
    }

    /** Mean over rows with a label (not -100) of {@code log sum_c exp(z_c) - z_label}. */
    public static double crossEntropy(double[] logits, int rows, int classes, int[] labels) {
        double total = 0;
        int n = 0;
        for (int r = 0; r < rows; r++) {
            if (labels[r] == -100) continue;
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) max = Math.max(max, logits[r * classes + c]);
            double sum = 0;
            for (int c = 0; c < classes; c++) sum += Math.exp(logits[r * classes + c] - max);
            total += max + Math.log(sum) - logits[r * classes + labels[r]];
            n++;
        }
        return total / n;
    }
}
