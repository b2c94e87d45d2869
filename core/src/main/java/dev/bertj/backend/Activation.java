package dev.bertj.backend;

import java.util.List;
import java.util.Locale;

/**
 * Element-wise activations by their HF {@code hidden_act} names, each with the scalar reference of
 * its value and derivative (in double: the oracle the backends' kernels are tested against).
 * <pre>
 * gelu(x)      = x/2 * (1 + erf(x / sqrt 2))                             HF "gelu" (exact)
 * gelu_new(x)  = x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))        HF "gelu_new", "gelu_pytorch_tanh"
 * relu(x)      = max(0, x)
 * tanh(x)
 *
 * gelu'(x) = Phi(x) + x phi(x),  Phi(x) = (1 + erf(x / sqrt 2)) / 2,  phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
 * relu'(x) = [x > 0]             tanh'(x) = 1 - tanh(x)^2 = 1 - y^2   (from the output y)
 * </pre>
 * Backward needs either the activation's input or its output ({@link #derivativeFrom()}); layers keep
 * whichever it names. A backend states which activations it runs ({@link Backend#supports}).
 */
public enum Activation {
    /** Exact (erf) GELU, BERT's. */
    GELU(Saved.INPUT, "gelu"),
    /** The tanh approximation of GELU. */
    GELU_TANH(Saved.INPUT, "gelu_new", "gelu_pytorch_tanh"),
    /** max(0, x). */
    RELU(Saved.INPUT, "relu"),
    /** tanh; its derivative is taken from the output. */
    TANH(Saved.OUTPUT, "tanh");

    /** What backward needs kept from forward. */
    public enum Saved { INPUT, OUTPUT }

    private static final double SQRT1_2 = 0.7071067811865476;
    private static final double INV_SQRT_2PI = 0.3989422804014327;
    private static final double SQRT_2_OVER_PI = 0.7978845608028654;
    private static final double TWO_OVER_SQRT_PI = 1.1283791670955126;

    private final Saved saved;
    private final List<String> hfNames;

    Activation(Saved saved, String... hfNames) {
        this.saved = saved;
        this.hfNames = List.of(hfNames);
    }

    /**
     * The activation HF calls {@code name} ({@code hidden_act} in config.json).
     *
     * @throws IllegalArgumentException naming the supported names
     */
    public static Activation of(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        for (Activation a : values()) if (a.hfNames.contains(n)) return a;
        throw new IllegalArgumentException("unsupported activation '" + name + "': bertj has gelu, gelu_new, gelu_pytorch_tanh, relu and tanh");
    }

    /** HF's name for it (the first, for the tanh GELU). */
    public String hfName() {
        return hfNames.get(0);
    }

    /** Whether backward takes the derivative from the activation's input or from its output. */
    public Saved derivativeFrom() {
        return saved;
    }

    /** The reference value, in double. */
    public double apply(double x) {
        return switch (this) {
            case GELU -> 0.5 * x * (1 + erf(x * SQRT1_2));
            case GELU_TANH -> 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
            case RELU -> Math.max(0, x);
            case TANH -> Math.tanh(x);
        };
    }

    /** The reference derivative, in double, from {@code s}: the input or the output per {@link #derivativeFrom()}. */
    public double derivative(double s) {
        return switch (this) {
            case GELU -> 0.5 * (1 + erf(s * SQRT1_2)) + s * Math.exp(-0.5 * s * s) * INV_SQRT_2PI;
            case GELU_TANH -> {
                double u = SQRT_2_OVER_PI * (s + 0.044715 * s * s * s), t = Math.tanh(u);
                yield 0.5 * (1 + t) + 0.5 * s * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * 0.044715 * s * s);
            }
            case RELU -> s > 0 ? 1 : 0;
            case TANH -> 1 - s * s;
        };
    }

    /**
     * The error function to about 1e-15, the reference (the kernels use a faster float one): its
     * Maclaurin series for |x| &lt; 3 (alternating, but the terms stay below e^9, so double keeps ~12
     * digits), and a continued fraction for erfc beyond.
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
