package dev.bertj.nn;

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
            case "gelu" -> { for (int i = 0; i < n; i++) x[i] = (float) (0.5 * x[i] * (1 + erfFast(x[i] * SQRT1_2))); }
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
                    d[i] = (float) (d[i] * (0.5 * (1 + erfFast(v * SQRT1_2)) + v * Math.exp(-0.5 * v * v) * 0.3989422804014327));
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
     * The error function to 1.5e-7 absolute (Abramowitz and Stegun 7.1.26), the approximation
     * PyTorch's vectorized CPU erf uses too: one exp and one division instead of {@link #erf}'s
     * series. The hot path of exact GELU; {@link #erf} stays the reference it is tested against.
     * <pre>
     * erf(x) = 1 - (a1 t + a2 t^2 + a3 t^3 + a4 t^4 + a5 t^5) exp(-x^2),  t = 1 / (1 + p |x|)
     * </pre>
     */
    public static double erfFast(double x) {
        double a = Math.abs(x);
        double t = 1.0 / (1.0 + 0.3275911 * a);
        double poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
        double r = 1.0 - poly * Math.exp(-a * a);
        return x < 0 ? -r : r;
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
