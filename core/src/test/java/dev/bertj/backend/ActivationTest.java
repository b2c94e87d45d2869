package dev.bertj.backend;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ActivationTest {
    /** Expected values: CPython's math.erf (C libm), printed with repr(). */
    @Test
    void erfMatchesLibm() {
        double[][] cases = {
                {-5.5, -0.9999999999999927}, {-3.2, -0.9999939742388483}, {-1.0, -0.8427007929497149},
                {-0.3, -0.3286267594591274}, {0.0, 0.0}, {1e-8, 1.1283791670955126e-08}, {0.5, 0.5204998778130465},
                {1.0, 0.8427007929497149}, {2.0, 0.9953222650189527}, {2.9999, 0.9999778955735178},
                {3.0, 0.9999779095030014}, {3.5, 0.9999992569016276}, {4.0, 0.9999999845827421}, {6.0, 1.0}};
        for (double[] c : cases) assertEquals(c[1], Activation.erf(c[0]), 1e-14, "erf(" + c[0] + ")");
    }

    @Test
    void exactGeluIsNotTheTanhApproximation() {
        // gelu(1) = 0.5 * (1 + erf(1/sqrt 2)) = 0.8413447460685429 (the normal CDF at 1, by definition).
        assertEquals(0.8413447460685429, Activation.GELU.apply(1.0), 1e-14);
        assertEquals(0.8411919906082768, Activation.GELU_TANH.apply(1.0), 1e-14);
    }

    @Test
    void fastErfIsWithinItsStatedBoundOfTheReference() {
        double worst = 0;
        for (double x = -8; x <= 8; x += 1e-3) worst = Math.max(worst, Math.abs(dev.bertj.cpu.ScalarKernels.erfFast(x) - Activation.erf(x)));
        assertTrue(worst <= 1.5e-7, "max |ScalarKernels.erfFast - Activation.erf| = " + worst);
    }

    @Test
    void hfNamesMapToTheirActivationAndUnknownOnesAreNamed() {
        assertEquals(Activation.GELU, Activation.of("gelu"));
        assertEquals(Activation.GELU_TANH, Activation.of("gelu_pytorch_tanh"));
        assertEquals(Activation.GELU_TANH, Activation.of("gelu_new"));
        assertEquals(Activation.Saved.OUTPUT, Activation.TANH.derivativeFrom());
        String msg = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> Activation.of("swish")).getMessage();
        assertTrue(msg.contains("swish") && msg.contains("gelu"), msg);
    }
}
