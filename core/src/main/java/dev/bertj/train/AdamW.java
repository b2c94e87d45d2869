package dev.bertj.train;

import dev.bertj.backend.AdamWStep;
import dev.bertj.backend.Backend;
import dev.bertj.backend.Backends;
import dev.bertj.backend.Buf;
import dev.bertj.backend.Device;
import dev.bertj.backend.OptimizerOps;
import dev.bertj.nn.Gradients;
import dev.bertj.tensor.Tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
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
        final Buf m;
        final Buf v;

        Slot(int step, Buf m, Buf v) {
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
    private final Backend backend;
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
        this(params, weightDecay, beta1, beta2, eps, decays, Backends.cpu());
    }

    /**
     * As {@link #AdamW(Map, double, double, double, double, Predicate)}, updating the parameters'
     * copies on {@code backend}'s device, where the moments live too.
     */
    public AdamW(Map<String, Tensor> params, double weightDecay, double beta1, double beta2, double eps,
                 Predicate<String> decays, Backend backend) {
        this.backend = Objects.requireNonNull(backend, "backend");
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

    /** PyTorch's default betas (0.9, 0.999) and eps (1e-8), on {@code backend}'s device. */
    public AdamW(Map<String, Tensor> params, double weightDecay, Predicate<String> decays, Backend backend) {
        this(params, weightDecay, 0.9, 0.999, 1e-8, decays, backend);
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
        if (backend.device().kind() != Device.Kind.CPU) throw new IllegalStateException("host gradients for an optimizer on " + backend.device() + "; pass its Gradients");
        Map<String, Buf> bufs = new LinkedHashMap<>();
        grads.forEach((k, v) -> bufs.put(k, v == null ? null : backend.wrap(v)));
        stepBuffers(bufs, lr);
    }

    /** {@link #step(Map, double)} with the gradients where backward left them (on the optimizer's device). */
    public void step(Gradients grads, double lr) {
        if (grads.backend() != backend) throw new IllegalArgumentException("gradients on " + grads.backend().device() + ", optimizer on " + backend.device());
        stepBuffers(grads.buffers(), lr);
    }

    private void stepBuffers(Map<String, Buf> grads, double lr) {
        if (!(lr >= 0) || Double.isInfinite(lr)) throw new IllegalArgumentException("lr must be finite and >= 0, got " + lr);
        for (Map.Entry<String, Buf> e : grads.entrySet()) {
            Tensor p = params.get(e.getKey());
            if (p == null) throw new IllegalArgumentException("gradient for unknown parameter " + e.getKey());
            if (e.getValue() != null && e.getValue().size() != p.size()) {
                throw new IllegalArgumentException("gradient of " + e.getKey() + " has " + e.getValue().size()
                        + " values, the parameter " + p.size());
            }
        }
        stepCount++;
        List<OptimizerOps.AdamWUpdate> updates = new ArrayList<>();
        List<Tensor> updated = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : params.entrySet()) {
            Buf g = grads.get(e.getKey());
            if (g == null) continue;
            Tensor t = e.getValue();
            int n = t.size();
            Slot s = slots.computeIfAbsent(e.getKey(), k -> new Slot(0, backend.gradient(n), backend.gradient(n)));
            s.step++;
            updates.add(new OptimizerOps.AdamWUpdate(backend.param(t), g, s.m, s.v, n, scalars(s, lr, decays.test(e.getKey()) ? weightDecay : 0.0)));
            updated.add(t);
        }
        // Every parameter in one pass (one parallel dispatch on the CPU, not one per tensor).
        backend.adamw(updates);
        for (Tensor t : updated) backend.paramUpdated(t);
    }

    private AdamWStep scalars(Slot s, double lr, double wd) {
        // Scalars are formed in double and rounded to float once, as PyTorch passes Python floats to
        // float kernels.
        float decay = (float) (1 - lr * wd);
        double biasCorrection1 = 1 - Math.pow(beta1, s.step);
        double biasCorrection2 = 1 - Math.pow(beta2, s.step);
        return new AdamWStep(decay, (float) beta1, (float) (1 - beta1), (float) beta2, (float) (1 - beta2),
                (float) -(lr / biasCorrection1), (float) Math.sqrt(biasCorrection2), (float) eps);
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
     * The state of every parameter that has had a gradient, in update order. On the CPU the arrays are
     * the live buffers (no copy, so a 110M-parameter model is not duplicated; on a GPU, copies): write or copy them
     * before the next {@link #step}.
     */
    public Map<String, ParamState> state() {
        Map<String, ParamState> out = new LinkedHashMap<>();
        slots.forEach((name, s) -> out.put(name, new ParamState(s.step, host(s.m), host(s.v))));
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
            loaded.put(e.getKey(), new Slot(ps.step(), copy(ps.expAvg()), copy(ps.expAvgSq())));
        }
        slots.clear();
        // Keep update order = parameter order, whatever order the checkpoint listed them in.
        for (String name : params.keySet()) {
            Slot s = loaded.get(name);
            if (s != null) slots.put(name, s);
        }
        this.stepCount = stepCount;
    }

    private float[] host(Buf b) {
        float[] a = backend.hostArray(b);
        return a != null ? a : backend.download(b, new float[b.size()]);
    }

    private Buf copy(float[] a) {
        Buf b = backend.gradient(a.length);
        backend.write(b, a);
        return b;
    }
}
