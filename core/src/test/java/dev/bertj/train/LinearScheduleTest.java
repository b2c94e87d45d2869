package dev.bertj.train;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Expected values: HF's _get_linear_schedule_with_warmup_lr_lambda and math.ceil, run in CPython. */
class LinearScheduleTest {
    private static void assertFactors(LinearSchedule s, double... expected) {
        for (int k = 0; k < expected.length; k++) assertEquals(expected[k], s.factor(k), 0.0, "factor(" + k + ")");
    }

    @Test
    void warmupThenLinearDecayThenZero() {
        LinearSchedule s = new LinearSchedule(1e-3, 3, 10);
        assertFactors(s, 0.0, 1.0 / 3, 2.0 / 3, 1.0, 6.0 / 7, 5.0 / 7, 4.0 / 7, 3.0 / 7, 2.0 / 7, 1.0 / 7, 0.0, 0.0, 0.0);
        // Python: 1e-3 * (2/3) == 0.0006666666666666666 (the double product, not a rounded "6.67e-4").
        assertEquals(0.0006666666666666666, s.lr(2), 0.0);
        assertEquals(0.0008571428571428571, s.lr(4), 0.0);
        assertEquals(0.0, s.lr(Integer.MAX_VALUE), 0.0);
    }

    @Test
    void noWarmupStartsAtFullLr() {
        LinearSchedule s = new LinearSchedule(2e-5, 0, 4);
        assertFactors(s, 1.0, 0.75, 0.5, 0.25, 0.0, 0.0);
        assertEquals(2e-5, s.lr(0), 0.0);
    }

    @Test
    void totalEqualToWarmupDropsToZeroAfterWarmup() {
        // max(1, total - warmup) keeps the decay branch from dividing by zero.
        LinearSchedule s = new LinearSchedule(1.0, 4, 4);
        assertFactors(s, 0.0, 0.25, 0.5, 0.75, 0.0, 0.0);
    }

    @Test
    void totalShorterThanWarmupStillWarmsUp() {
        LinearSchedule s = new LinearSchedule(1.0, 5, 3);
        assertFactors(s, 0.0, 0.2, 0.4, 0.6, 0.8, 0.0, 0.0);
    }

    @Test
    void zeroStepsEverywhereIsZeroLr() {
        assertFactors(new LinearSchedule(1.0, 0, 0), 0.0, 0.0);
    }

    @Test
    void warmupOfOneStep() {
        assertFactors(new LinearSchedule(1.0, 1, 3), 0.0, 1.0, 0.5, 0.0);
    }

    @Test
    void warmupStepsFromRatioIsCeilLikePython() {
        assertEquals(3, LinearSchedule.warmupSteps(0.1, 30));
        assertEquals(100, LinearSchedule.warmupSteps(0.1, 1000));
        assertEquals(3, LinearSchedule.warmupSteps(0.25, 10));
        assertEquals(4, LinearSchedule.warmupSteps(0.5, 7));
        // 100 * 0.07 == 7.000000000000001 in double, so math.ceil gives 8; so must we.
        assertEquals(8, LinearSchedule.warmupSteps(0.07, 100));
        assertEquals(0, LinearSchedule.warmupSteps(0.0, 50));
        assertEquals(0, LinearSchedule.warmupSteps(0.1, 0));
        assertEquals(3, LinearSchedule.warmupSteps(1.0, 3));
        // Explicit steps win over the ratio (TrainingArguments.get_warmup_steps).
        assertEquals(5, LinearSchedule.warmupSteps(5, 0.5, 100));
        assertEquals(50, LinearSchedule.warmupSteps(0, 0.5, 100));
    }

    @Test
    void rejectsNonsense() {
        assertThrows(IllegalArgumentException.class, () -> new LinearSchedule(1.0, -1, 10));
        assertThrows(IllegalArgumentException.class, () -> new LinearSchedule(1.0, 0, -1));
        assertThrows(IllegalArgumentException.class, () -> new LinearSchedule(Double.NaN, 0, 10));
        assertThrows(IllegalArgumentException.class, () -> new LinearSchedule(-1e-3, 0, 10));
        assertThrows(IllegalArgumentException.class, () -> new LinearSchedule(1.0, 0, 10).factor(-1));
        assertThrows(IllegalArgumentException.class, () -> LinearSchedule.warmupSteps(1.5, 10));
        assertThrows(IllegalArgumentException.class, () -> LinearSchedule.warmupSteps(-0.1, 10));
        assertThrows(IllegalArgumentException.class, () -> LinearSchedule.warmupSteps(Double.NaN, 10));
    }
}
