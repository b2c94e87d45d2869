package dev.bertj.cpu;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The vector kernels' exp against {@code StrictMath.exp} (fdlibm, correctly rounded to within an ulp,
 * in double then rounded to float): within 2 float ulps over [-87.3, 88], exactly 0 below
 * Float.MIN_NORMAL's logarithm, and bit-identical whether the interpreter or C2 runs it (it is
 * made of operations that round the same in both; checked by comparing a cold first call with a
 * warmed-up one).
 */
class VectorExpTest {
    static final int L = FloatVector.SPECIES_PREFERRED.length();

    static float[] run(float[] x) {
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i += L) VectorKernels.exp(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, x, i)).intoArray(y, i);
        return y;
    }

    @Test
    void within2UlpsOfStrictMathAndZeroWhereTheFloatWouldBeSubnormal() {
        int n = 1 << 20;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = -100f + 188f * i / n; // [-100, 88)
        float[] cold = run(x);
        float worst = 0;
        for (int i = 0; i < n; i++) {
            if (x[i] < -87.33654f) {
                assertEquals(0f, cold[i], "exp(" + x[i] + ")");
                continue;
            }
            float want = (float) StrictMath.exp(x[i]);
            float ulps = Math.abs(cold[i] - want) / Math.ulp(want);
            worst = Math.max(worst, ulps);
        }
        assertTrue(worst <= 2f, "max error " + worst + " ulp");
        for (int rep = 0; rep < 200; rep++) run(x); // let C2 compile it
        float[] warm = run(x);
        for (int i = 0; i < n; i++) assertEquals(Float.floatToRawIntBits(cold[i]), Float.floatToRawIntBits(warm[i]), "exp(" + x[i] + ") cold vs warm");
        assertEquals(1f, run(new float[L])[0], "exp(0)");
    }
}
