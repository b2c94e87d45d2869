package dev.bertj.tests;

import dev.bertj.io.Npy;
import dev.bertj.tensor.Tensor;
import dev.bertj.train.AdamW;
import dev.bertj.train.GradClip;
import dev.bertj.train.LinearSchedule;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * clip_grad_norm_ + AdamW + the HF linear schedule against PyTorch 1.13, step by step (fixtures
 * from scripts/make_optimizer_fixtures.py: 12 steps, warmup 3, total 10, lr 1e-3, weight decay
 * 0.01 with HF's no-decay groups, max_norm 1.0, one skipped gradient at step 6).
 */
class OptimizerPyTorchParityTest {
    static final String[] NAMES = {
            "encoder.layer.0.attention.self.query.weight",
            "encoder.layer.0.attention.self.query.bias",
            "embeddings.LayerNorm.weight"};
    static final int STEPS = 12;

    static Path dir;
    static float[] lrs;
    static float[] norms;
    static long[] hasGrad;
    static final Map<String, Npy.Array> grads = new LinkedHashMap<>();
    static final Map<String, Npy.Array> history = new LinkedHashMap<>();

    @BeforeAll
    static void load() throws Exception {
        dir = Path.of(OptimizerPyTorchParityTest.class.getResource("/fixtures/optimizer/lr.npy").toURI()).getParent();
        lrs = Npy.readFloat32(dir.resolve("lr.npy")).floats(); // float64 on disk, narrowed
        norms = Npy.readFloat32(dir.resolve("total_norm.npy")).floats();
        hasGrad = Npy.readInt64(dir.resolve("has_grad.npy")).longs();
        for (String n : NAMES) {
            grads.put(n, Npy.readFloat32(dir.resolve("grad." + n + ".npy")));
            history.put(n, Npy.readFloat32(dir.resolve("param." + n + ".npy")));
        }
    }

    /** Row {@code k} of a stacked [steps, *shape] fixture. */
    static float[] row(Npy.Array a, int k) {
        int n = a.size() / a.shape()[0];
        return Arrays.copyOfRange(a.floats(), k * n, (k + 1) * n);
    }

    static Map<String, Tensor> initialParams() {
        Map<String, Tensor> params = new LinkedHashMap<>();
        for (String n : NAMES) {
            Npy.Array h = history.get(n);
            params.put(n, new Tensor(row(h, 0), Arrays.copyOfRange(h.shape(), 1, h.shape().length)));
        }
        return params;
    }

    static Map<String, float[]> gradsAt(int k) {
        Map<String, float[]> g = new LinkedHashMap<>();
        for (int i = 0; i < NAMES.length; i++) {
            if (hasGrad[k * NAMES.length + i] == 1) g.put(NAMES[i], row(grads.get(NAMES[i]), k));
        }
        return g;
    }

    static void assertClose(String what, float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            double tol = Math.max(1e-7, 1e-6 * Math.abs(expected[i]));
            if (!(Math.abs(expected[i] - actual[i]) <= tol)) {
                fail(what + "[" + i + "]: expected " + expected[i] + " but was " + actual[i]);
            }
        }
    }

    /** Runs PyTorch's loop from {@code from} to {@code to} and checks every step against the fixtures; counts exact floats. */
    static int[] run(AdamW opt, LinearSchedule sched, int from, int to) {
        int exact = 0, total = 0;
        for (int k = from; k < to; k++) {
            Map<String, float[]> g = gradsAt(k);
            double lr = sched.lr(k);
            assertEquals(lrs[k], (float) lr, 0f, "lr at step " + k);
            double norm = GradClip.clipGlobalNorm(g, 1.0);
            assertEquals(norms[k], norm, Math.max(1e-7, 1e-6 * norms[k]), "total norm at step " + k);
            opt.step(g, lr);
            for (String n : NAMES) {
                float[] expected = row(history.get(n), k + 1);
                float[] actual = opt.params().get(n).data();
                assertClose(n + " after step " + k, expected, actual);
                for (int i = 0; i < expected.length; i++, total++) {
                    if (Float.floatToIntBits(expected[i]) == Float.floatToIntBits(actual[i])) exact++;
                }
            }
        }
        return new int[] {exact, total};
    }

    static void assertFinalState(AdamW opt) throws Exception {
        long[] steps = Npy.readInt64(dir.resolve("state_step.npy")).longs();
        for (int i = 0; i < NAMES.length; i++) {
            AdamW.ParamState s = opt.state().get(NAMES[i]);
            assertEquals(steps[i], s.step(), NAMES[i] + " step");
            assertClose(NAMES[i] + " exp_avg", Npy.readFloat32(dir.resolve("exp_avg." + NAMES[i] + ".npy")).floats(), s.expAvg());
            assertClose(NAMES[i] + " exp_avg_sq", Npy.readFloat32(dir.resolve("exp_avg_sq." + NAMES[i] + ".npy")).floats(), s.expAvgSq());
        }
    }

    @Test
    void everyStepMatchesPyTorch() throws Exception {
        AdamW opt = new AdamW(initialParams(), 0.01, 0.9, 0.999, 1e-8, AdamW.hfNoDecay());
        int[] exact = run(opt, new LinearSchedule(1e-3, 3, 10), 0, STEPS);
        assertEquals(STEPS, opt.stepCount());
        assertFinalState(opt);
        System.out.printf("optimizer parity: %d of %d parameter values bit-identical to PyTorch%n", exact[0], exact[1]);
    }

    @Test
    void resumingFromSavedStateContinuesExactly() throws Exception {
        AdamW first = new AdamW(initialParams(), 0.01, AdamW.hfNoDecay());
        LinearSchedule sched = new LinearSchedule(1e-3, 3, 10);
        run(first, sched, 0, 7); // past the skipped gradient, so per-parameter steps differ
        Map<String, AdamW.ParamState> saved = new LinkedHashMap<>();
        first.state().forEach((n, s) -> saved.put(n, new AdamW.ParamState(s.step(), s.expAvg().clone(), s.expAvgSq().clone())));
        Map<String, Tensor> params = new LinkedHashMap<>();
        first.params().forEach((n, t) -> params.put(n, new Tensor(t.data().clone(), t.shape())));

        AdamW resumed = new AdamW(params, 0.01, AdamW.hfNoDecay());
        resumed.loadState(first.stepCount(), saved);
        assertEquals(6, resumed.state().get("embeddings.LayerNorm.weight").step());
        run(resumed, sched, 7, STEPS);
        assertEquals(STEPS, resumed.stepCount());
        assertFinalState(resumed);
    }

    @Test
    void hfNoDecaySplitsBertNames() {
        var decays = AdamW.hfNoDecay();
        assertTrue(decays.test("encoder.layer.0.attention.self.query.weight"));
        assertTrue(decays.test("embeddings.word_embeddings.weight"));
        assertFalse(decays.test("encoder.layer.0.attention.self.query.bias"));
        assertFalse(decays.test("embeddings.LayerNorm.weight"));
        assertFalse(decays.test("encoder.layer.0.output.LayerNorm.bias"));
        assertFalse(decays.test("cls.predictions.bias"));
    }

    /** Expected values: clip_grad_norm_ in PyTorch 1.13 on the same gradients, printed with repr(). */
    @Test
    void clipMatchesPyTorchOnHandPickedGradients() {
        Map<String, float[]> small = new LinkedHashMap<>();
        small.put("a", new float[] {0.3f, 0.4f});
        assertEquals(0.5, GradClip.clipGlobalNorm(small, 1.0), 0.0);
        assertEquals("[0.3, 0.4]", Arrays.toString(small.get("a")), "under max_norm: coefficient clamped to exactly 1");

        Map<String, float[]> big = new LinkedHashMap<>();
        big.put("a", new float[] {3f});
        big.put("b", new float[] {4f});
        big.put("none", null);
        assertEquals(5.0, GradClip.clipGlobalNorm(big, 1.0), 0.0);
        assertEquals(0.5999999046325684f, big.get("a")[0], 0f);
        assertEquals(0.7999998331069946f, big.get("b")[0], 0f);
        big.put("a", new float[] {3f});
        big.put("b", new float[] {4f});
        assertEquals(5.0, GradClip.clipGlobalNorm(big, 2.5), 0.0);
        assertEquals(1.4999996423721313f, big.get("a")[0], 0f);
        assertEquals(1.9999995231628418f, big.get("b")[0], 0f);

        Map<String, float[]> nan = new LinkedHashMap<>();
        nan.put("a", new float[] {1f, Float.NaN});
        assertTrue(Double.isNaN(GradClip.clipGlobalNorm(nan, 1.0)));
        assertEquals("[NaN, NaN]", Arrays.toString(nan.get("a")));
        Map<String, float[]> inf = new LinkedHashMap<>();
        inf.put("a", new float[] {1f, Float.POSITIVE_INFINITY});
        assertEquals(Double.POSITIVE_INFINITY, GradClip.clipGlobalNorm(inf, 1.0));
        assertEquals("[0.0, NaN]", Arrays.toString(inf.get("a")));
        assertEquals(0.0, GradClip.clipGlobalNorm(new LinkedHashMap<>(), 1.0));
    }

    @Test
    void badGradientsChangeNothing() {
        AdamW opt = new AdamW(initialParams(), 0.01, AdamW.hfNoDecay());
        float[] before = opt.params().get(NAMES[0]).data().clone();
        Map<String, float[]> g = new LinkedHashMap<>();
        g.put(NAMES[0], new float[12]);
        g.put(NAMES[1], new float[3]); // the bias has 4 values
        assertThrows(IllegalArgumentException.class, () -> opt.step(g, 1e-3));
        assertThrows(IllegalArgumentException.class, () -> opt.step(Map.of("no.such.param", new float[1]), 1e-3));
        assertThrows(IllegalArgumentException.class, () -> opt.step(Map.of(), Double.NaN));
        assertEquals(0, opt.stepCount());
        assertTrue(opt.state().isEmpty());
        assertEquals(Arrays.toString(before), Arrays.toString(opt.params().get(NAMES[0]).data()));
    }
}
