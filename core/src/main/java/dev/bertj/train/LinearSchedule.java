package dev.bertj.train;

/**
 * Hugging Face's {@code get_linear_schedule_with_warmup}: linear warmup from 0 to the base lr, then
 * linear decay to 0 at {@code totalSteps}, 0 after.
 *
 * <pre>
 *   factor(k) = k / max(1, warmup)                              k &lt; warmup
 *             = max(0, (total − k) / max(1, total − warmup))    otherwise
 *   lr(k)     = baseLr · factor(k)
 * </pre>
 *
 * <p>It is a {@code LambdaLR} multiplier, so {@code k} is the 0-based index of the optimizer step
 * about to run: PyTorch calls {@code scheduler.step()} after {@code optimizer.step()}, so step 0
 * runs at {@code lr(0)} (0 when there is warmup). Arithmetic is in double, as in Python.
 */
public final class LinearSchedule {
    private final double baseLr;
    private final int warmupSteps;
    private final int totalSteps;

    /**
     * @param baseLr the peak learning rate (HF's {@code learning_rate})
     * @param warmupSteps steps of linear warmup, ≥ 0
     * @param totalSteps the step at which lr reaches 0, ≥ 0
     */
    public LinearSchedule(double baseLr, int warmupSteps, int totalSteps) {
        if (!(baseLr >= 0) || Double.isInfinite(baseLr)) throw new IllegalArgumentException("baseLr must be finite and >= 0, got " + baseLr);
        if (warmupSteps < 0) throw new IllegalArgumentException("warmupSteps must be >= 0, got " + warmupSteps);
        if (totalSteps < 0) throw new IllegalArgumentException("totalSteps must be >= 0, got " + totalSteps);
        this.baseLr = baseLr;
        this.warmupSteps = warmupSteps;
        this.totalSteps = totalSteps;
    }

    /** The multiplier for optimizer step {@code step} (0-based); see the class comment for the formula. */
    public double factor(int step) {
        if (step < 0) throw new IllegalArgumentException("step must be >= 0, got " + step);
        if (step < warmupSteps) return (double) step / Math.max(1, warmupSteps);
        // long: total − step must not overflow for huge step values.
        return Math.max(0.0, (double) ((long) totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
    }

    /** {@code baseLr · factor(step)}: the lr optimizer step {@code step} (0-based) uses. */
    public double lr(int step) {
        return baseLr * factor(step);
    }

    /** The peak learning rate. */
    public double baseLr() {
        return baseLr;
    }

    /** Steps of linear warmup. */
    public int warmupSteps() {
        return warmupSteps;
    }

    /** The step at which the lr reaches 0. */
    public int totalSteps() {
        return totalSteps;
    }

    /**
     * Warmup steps from a ratio, as HF's {@code TrainingArguments.get_warmup_steps}:
     * {@code ceil(totalSteps · warmupRatio)} (in double, so 100 · 0.07 = 7.000000000000001 gives 8,
     * exactly as Python's {@code math.ceil} does).
     *
     * @param warmupRatio in [0, 1], as TrainingArguments requires
     */
    public static int warmupSteps(double warmupRatio, int totalSteps) {
        if (!(warmupRatio >= 0 && warmupRatio <= 1)) throw new IllegalArgumentException("warmup_ratio must lie in range [0,1], got " + warmupRatio);
        if (totalSteps < 0) throw new IllegalArgumentException("totalSteps must be >= 0, got " + totalSteps);
        return (int) Math.ceil(totalSteps * warmupRatio);
    }

    /**
     * HF's full rule (transformers 4.x): an explicit {@code warmupSteps > 0} wins, otherwise
     * {@link #warmupSteps(double, int)} from the ratio.
     */
    public static int warmupSteps(int warmupSteps, double warmupRatio, int totalSteps) {
        return warmupSteps > 0 ? warmupSteps : warmupSteps(warmupRatio, totalSteps);
    }
}
