package dev.bertj.train;

import dev.bertj.cpu.Parallel;
import dev.bertj.tensor.Tensor;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * PyTorch's {@code torch.optim.AdamW} (amsgrad off, maximize off), computed in float32 in the
 * order of PyTorch's single-tensor CPU implementation so that results match it bit for bit or
 * within an ulp.
 *
 * <p>For a parameter {@code p} with gradient {@code g} at its own {@code t}-th step ({@code t}
 * counts from 1, per parameter, as PyTorch's {@code state['step']}):
 *
 * <pre>
 *   p ← p · (1 − lr·wd)                 decoupled weight decay (wd = 0 where decays(name) is false)
 *   m ← β1·m + (1 − β1)·g
 *   v ← β2·v + (1 − β2)·g²
 *   p ← p − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + ε)
 * </pre>
 *
 * <p>Parameters are updated in place ({@link Tensor#data()}). State (m, v, t) is created the first
 * time a parameter gets a gradient, as in PyTorch; {@link #state()} exposes it for checkpoints and
 * {@link #loadState} restores it. Not thread-safe.
 */
public final class AdamW {
    /**
     * One parameter's optimizer state, named like PyTorch's {@code state_dict()} entries.
     *
     * @param step how many updates this parameter has had (PyTorch's {@code state['step']})
     * @param expAvg first moment m ({@code exp_avg}), same layout as the parameter's data
     * @param expAvgSq second moment v ({@code exp_avg_sq})
     */
    public record ParamState(int step, float[] expAvg, float[] expAvgSq) {
        /** Checks the step is not negative and both moments have the same length. */
        public ParamState {
            Objects.requireNonNull(expAvg, "expAvg");
            Objects.requireNonNull(expAvgSq, "expAvgSq");
            if (step < 0) throw new IllegalArgumentException("step must be >= 0, got " + step);
            if (expAvg.length != expAvgSq.length) {
                throw new IllegalArgumentException("expAvg has " + expAvg.length + " values, expAvgSq " + expAvgSq.length);
            }
        }
    }

    private static final class Slot {
        int step;
        final float[] m;
        final float[] v;

        Slot(int step, float[] m, float[] v) {
            this.step = step;
            this.m = m;
            this.v = v;
        }
    }

    private final Map<String, Tensor> params;
    private final Map<String, Slot> slots = new LinkedHashMap<>();
    private final double weightDecay;
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final Predicate<String> decays;
    private int stepCount;

    /**
     * @param params name → parameter, updated in place; iteration order is the update order
     * @param weightDecay decoupled decay coefficient (PyTorch's default is 0.01, HF Trainer's 0)
     * @param beta1 first-moment decay, in [0, 1)
     * @param beta2 second-moment decay, in [0, 1)
     * @param eps added to the bias-corrected √v, ≥ 0
     * @param decays whether weight decay applies to a parameter name; see {@link #hfNoDecay()}
     */
    public AdamW(Map<String, Tensor> params, double weightDecay, double beta1, double beta2, double eps,
                 Predicate<String> decays) {
        Objects.requireNonNull(params, "params");
        this.decays = Objects.requireNonNull(decays, "decays");
        // Same range checks as torch.optim.AdamW's constructor; negated so NaN fails too.
        if (!(weightDecay >= 0)) throw new IllegalArgumentException("Invalid weight_decay value: " + weightDecay);
        if (!(beta1 >= 0 && beta1 < 1)) throw new IllegalArgumentException("Invalid beta parameter at index 0: " + beta1);
        if (!(beta2 >= 0 && beta2 < 1)) throw new IllegalArgumentException("Invalid beta parameter at index 1: " + beta2);
        if (!(eps >= 0)) throw new IllegalArgumentException("Invalid epsilon value: " + eps);
        Map<String, Tensor> copy = new LinkedHashMap<>();
        params.forEach((name, t) -> copy.put(Objects.requireNonNull(name, "parameter name"),
                Objects.requireNonNull(t, () -> "parameter " + name + " is null")));
        this.params = Collections.unmodifiableMap(copy);
        this.weightDecay = weightDecay;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
    }

    /** PyTorch's defaults for the rest: betas (0.9, 0.999), eps 1e-8. */
    public AdamW(Map<String, Tensor> params, double weightDecay, Predicate<String> decays) {
        this(params, weightDecay, 0.9, 0.999, 1e-8, decays);
    }

    /**
     * The {@code decays} predicate for HF's no-decay rule: false (no weight decay) for names
     * containing {@code "bias"} or {@code "LayerNorm.weight"}, true otherwise.
     *
     * <p>That is the {@code no_decay = ["bias", "LayerNorm.weight"]} substring list of HF's
     * examples; Trainer's own rule (LayerNorm modules and names containing "bias") splits BERT's
     * parameters the same way.
     */
    public static Predicate<String> hfNoDecay() {
        return name -> !(name.contains("bias") || name.contains("LayerNorm.weight"));
    }

    /**
     * One optimizer step with learning rate {@code lr}.
     *
     * @param grads name → gradient, same layout as the parameter's data (after any clipping); a
     *     parameter with no entry (or a null one) is skipped entirely, state and step count
     *     included, as PyTorch skips {@code p.grad is None}
     * @throws IllegalArgumentException for a gradient of an unknown parameter, a gradient of the
     *     wrong length, or a negative / non-finite lr; nothing is updated then
     */
    public void step(Map<String, float[]> grads, double lr) {
        Objects.requireNonNull(grads, "grads");
        if (!(lr >= 0) || Double.isInfinite(lr)) throw new IllegalArgumentException("lr must be finite and >= 0, got " + lr);
        for (Map.Entry<String, float[]> e : grads.entrySet()) {
            Tensor p = params.get(e.getKey());
            if (p == null) throw new IllegalArgumentException("gradient for unknown parameter " + e.getKey());
            if (e.getValue() != null && e.getValue().length != p.size()) {
                throw new IllegalArgumentException("gradient of " + e.getKey() + " has " + e.getValue().length
                        + " values, the parameter " + p.size());
            }
        }
        stepCount++;
        for (Map.Entry<String, Tensor> e : params.entrySet()) {
            float[] g = grads.get(e.getKey());
            if (g == null) continue;
            float[] p = e.getValue().data();
            Slot s = slots.computeIfAbsent(e.getKey(), k -> new Slot(0, new float[p.length], new float[p.length]));
            s.step++;
            update(p, g, s, lr, decays.test(e.getKey()) ? weightDecay : 0.0);
            e.getValue().changed();
        }
    }

    private void update(float[] p, float[] g, Slot s, double lr, double wd) {
        // Scalars are formed in double and rounded to float once, as PyTorch passes Python floats to
        // float kernels.
        float decay = (float) (1 - lr * wd);
        float b1 = (float) beta1;
        float oneMinusB1 = (float) (1 - beta1);
        float b2 = (float) beta2;
        float oneMinusB2 = (float) (1 - beta2);
        double biasCorrection1 = 1 - Math.pow(beta1, s.step);
        double biasCorrection2 = 1 - Math.pow(beta2, s.step);
        float negStepSize = (float) -(lr / biasCorrection1);
        float bc2Sqrt = (float) Math.sqrt(biasCorrection2);
        float epsF = (float) eps;
        float[] m = s.m;
        float[] v = s.v;
        // Element-wise, so slices of a large tensor (the word embeddings) run on every core.
        Parallel.forSlices(p.length, 1 << 16, (sl, from, to) -> {
            for (int i = from; i < to; i++) {
                float gi = g[i];
                float pi = p[i] * decay;
                // ATen's add(alpha) and addcmul compile to fused multiply-adds (checked against
                // PyTorch 1.13 on both its scalar and AVX2 paths); addcdiv's divide cannot fuse.
                float mi = Math.fma(gi, oneMinusB1, m[i] * b1);
                float vi = Math.fma(oneMinusB2 * gi, gi, v[i] * b2);
                float denom = (float) Math.sqrt(vi) / bc2Sqrt + epsF;
                m[i] = mi;
                v[i] = vi;
                p[i] = pi + negStepSize * mi / denom;
            }
        });
    }

    /** Number of {@link #step} calls so far (the optimizer's global step; see {@link ParamState#step()} per parameter). */
    public int stepCount() {
        return stepCount;
    }

    /** The parameters being optimized (unmodifiable, in update order). */
    public Map<String, Tensor> params() {
        return params;
    }

    /**
     * The state of every parameter that has had a gradient, in update order. The arrays are the
     * live buffers (no copy, so a 110M-parameter model is not duplicated): write or copy them
     * before the next {@link #step}.
     */
    public Map<String, ParamState> state() {
        Map<String, ParamState> out = new LinkedHashMap<>();
        slots.forEach((name, s) -> out.put(name, new ParamState(s.step, s.m, s.v)));
        return Collections.unmodifiableMap(out);
    }

    /**
     * Replaces all state, e.g. from a checkpoint. Arrays are copied. Parameters without an entry
     * start fresh on their next gradient, as in PyTorch.
     *
     * @param stepCount the value {@link #stepCount()} continues from
     * @throws IllegalArgumentException for an unknown name or an array of the wrong length;
     *     nothing changes then
     */
    public void loadState(int stepCount, Map<String, ParamState> state) {
        if (stepCount < 0) throw new IllegalArgumentException("stepCount must be >= 0, got " + stepCount);
        Map<String, Slot> loaded = new LinkedHashMap<>();
        for (Map.Entry<String, ParamState> e : state.entrySet()) {
            Tensor p = params.get(e.getKey());
            if (p == null) throw new IllegalArgumentException("state for unknown parameter " + e.getKey());
            ParamState ps = e.getValue();
            if (ps.expAvg().length != p.size()) {
                throw new IllegalArgumentException("state of " + e.getKey() + " has " + ps.expAvg().length
                        + " values, the parameter " + p.size());
            }
            loaded.put(e.getKey(), new Slot(ps.step(), ps.expAvg().clone(), ps.expAvgSq().clone()));
        }
        slots.clear();
        // Keep update order = parameter order, whatever order the checkpoint listed them in.
        for (String name : params.keySet()) {
            Slot s = loaded.get(name);
            if (s != null) slots.put(name, s);
        }
        this.stepCount = stepCount;
    }
}
