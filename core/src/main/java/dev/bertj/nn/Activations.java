package dev.bertj.nn;

import dev.bertj.cpu.ScalarKernels;

/**
 * Element-wise activations, by their HF {@code hidden_act} names.
 *
 * <pre>
 * gelu(x)      = x/2 * (1 + erf(x / sqrt(2)))                          exact, HF "gelu"
 * gelu_new(x)  = x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))     HF "gelu_new", "gelu_pytorch_tanh"
 * relu(x)      = max(0, x)
 *
 * gelu'(x)     = Phi(x) + x phi(x),  Phi(x) = (1 + erf(x/sqrt 2))/2,  phi(x) = exp(-x^2/2)/sqrt(2 pi)
 * </pre>
 */
public final class Activations {
    private static final double SQRT1_2 = 0.7071067811865476;
    private static final double TWO_OVER_SQRT_PI = 1.1283791670955126;

    private Activations() { }

    /** Applies {@code act} to {@code x[0, n)} in place. */
    public static void apply(String act, float[] x, int n) {
        switch (act) {
            case "gelu" -> { for (int i = 0; i < n; i++) x[i] = (float) (0.5 * x[i] * (1 + ScalarKernels.erf(x[i] * SQRT1_2))); }
            case "gelu_new", "gelu_pytorch_tanh" -> { for (int i = 0; i < n; i++) x[i] = (float) geluTanh(x[i]); }
            case "relu" -> { for (int i = 0; i < n; i++) x[i] = Math.max(0f, x[i]); }
            case "tanh" -> { for (int i = 0; i < n; i++) x[i] = (float) Math.tanh(x[i]); }
            default -> throw new IllegalArgumentException("unsupported activation '" + act + "'");
        }
    }

    /**
     * {@code d[i] *= act'(x[i])}: backward through {@code act}, given its input {@code x} (for
     * tanh and relu the output works as well; pass what {@link #apply} was given).
     */
    public static void backward(String act, float[] x, float[] d, int n) {
        switch (act) {
            case "gelu" -> {
                for (int i = 0; i < n; i++) {
                    double v = x[i];
                    d[i] = (float) (d[i] * (0.5 * (1 + ScalarKernels.erf(v * SQRT1_2)) + v * Math.exp(-0.5 * v * v) * 0.3989422804014327));
                }
            }
            case "gelu_new", "gelu_pytorch_tanh" -> { for (int i = 0; i < n; i++) d[i] = (float) (d[i] * geluTanhGrad(x[i])); }
            case "relu" -> { for (int i = 0; i < n; i++) if (x[i] <= 0f) d[i] = 0f; }
            case "tanh" -> { for (int i = 0; i < n; i++) { double t = Math.tanh(x[i]); d[i] = (float) (d[i] * (1 - t * t)); } }
            default -> throw new IllegalArgumentException("unsupported activation '" + act + "'");
        }
    }

    /** d/dx of exact GELU. */
    public static double geluGrad(double x) {
        return 0.5 * (1 + erf(x * SQRT1_2)) + x * Math.exp(-0.5 * x * x) * 0.3989422804014327;
    }

    /** d/dx of the tanh GELU. */
    public static double geluTanhGrad(double x) {
        double c = 0.7978845608028654, u = c * (x + 0.044715 * x * x * x), t = Math.tanh(u);
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x);
    }

    /** Exact GELU, in double. */
    public static double gelu(double x) {
        return 0.5 * x * (1 + erf(x * SQRT1_2));
    }

    /** The tanh approximation of GELU. */
    public static double geluTanh(double x) {
        return 0.5 * x * (1 + Math.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
    }

    /**
     * The error function to about 1e-15: its Maclaurin series for |x| &lt; 3 (alternating, but the
     * terms stay below e^9, so double keeps ~12 digits), and a continued fraction for erfc beyond.
     */
    public static double erf(double x) {
        double a = Math.abs(x);
        if (a > 6) return Math.signum(x);
        if (a < 3) {
            double x2 = x * x, term = x, sum = x;
            for (int n = 1; n < 100; n++) {
                term *= -x2 / n;
                double t = term / (2 * n + 1);
                sum += t;
                if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
            }
            return TWO_OVER_SQRT_PI * sum;
        }
        // erfc(a) = exp(-a^2)/sqrt(pi) * 1/(a + 1/2/(a + 1/(a + 3/2/(a + 2/(a + ...))))), evaluated bottom-up.
        double f = a;
        for (int k = 60; k >= 1; k--) f = a + (k / 2.0) / f;
        double erfc = Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
        return Math.signum(x) * (1 - erfc);
    }
}
