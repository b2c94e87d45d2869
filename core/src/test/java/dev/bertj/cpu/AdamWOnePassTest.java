package dev.bertj.cpu;

import dev.bertj.backend.AdamWStep;
import dev.bertj.backend.OptimizerOps.AdamWUpdate;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * The CPU's one-pass AdamW (slices of all parameters' elements at once) against PyTorch's update
 * written out per element in double-free float arithmetic, one tensor at a time: bit for bit, on
 * sizes that put slice edges inside tensors, across several small ones, and at the last element.
 */
class AdamWOnePassTest {
    private static final int[] SIZES = {1, 70_001, 3, 65_536, 131_073, 17, 65_535, 2};

    @Test
    void onePassEqualsEachTensorAlone() {
        Random r = new Random(21);
        CpuBackend cpu = new CpuBackend(Vectorization.kernels());
        List<AdamWUpdate> updates = new ArrayList<>();
        List<float[][]> want = new ArrayList<>();
        for (int t = 0; t < SIZES.length; t++) {
            int n = SIZES[t];
            float[] p = rand(r, n), g = rand(r, n), m = rand(r, n), v = rand(r, n);
            for (int i = 0; i < n; i++) v[i] = Math.abs(v[i]);
            AdamWStep st = new AdamWStep(1 - 1e-3f * t, 0.9f, 0.1f, 0.999f, 0.001f, -2e-5f * (t + 1), (float) Math.sqrt(1 - Math.pow(0.999, t + 1)), 1e-8f);
            float[][] ref = {p.clone(), g.clone(), m.clone(), v.clone()};
            reference(ref[0], ref[1], ref[2], ref[3], st);
            want.add(ref);
            updates.add(new AdamWUpdate(new HostBuf(p), new HostBuf(g), new HostBuf(m), new HostBuf(v), n, st));
        }
        cpu.adamw(updates);
        for (int t = 0; t < SIZES.length; t++) {
            AdamWUpdate u = updates.get(t);
            assertArrayEquals(want.get(t)[0], ((HostBuf) u.p()).array(), "param of tensor " + t + " (" + SIZES[t] + " values)");
            assertArrayEquals(want.get(t)[2], ((HostBuf) u.m()).array(), "exp_avg of tensor " + t);
            assertArrayEquals(want.get(t)[3], ((HostBuf) u.v()).array(), "exp_avg_sq of tensor " + t);
        }
    }

    /** torch.optim.AdamW's single-tensor update, as AdamWStep's comment writes it (FMAs where ATen fuses). */
    private static void reference(float[] p, float[] g, float[] m, float[] v, AdamWStep st) {
        for (int i = 0; i < p.length; i++) {
            float pi = p[i] * st.decay();
            m[i] = Math.fma(g[i], st.oneMinusBeta1(), m[i] * st.beta1());
            v[i] = Math.fma(st.oneMinusBeta2() * g[i], g[i], v[i] * st.beta2());
            p[i] = pi + st.negStepSize() * m[i] / ((float) Math.sqrt(v[i]) / st.bc2Sqrt() + st.eps());
        }
    }

    private static float[] rand(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }
}
