package dev.bertj.cuda;

import dev.bertj.model.BertConfig;
import dev.bertj.model.BertForSequenceClassification;
import dev.bertj.model.BertModel;
import dev.bertj.model.TrainMode;
import dev.bertj.nn.Gradients;
import dev.bertj.tensor.Tensor;
import dev.bertj.tokenizer.Batch;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The reduced-precision GEMM modes against the CPU's float32: TF32 keeps 10 mantissa bits of each
 * product input (relative rounding 2^-11 = 4.9e-4), bfloat16 7 (2^-8 = 3.9e-3); sums stay float32. The
 * bounds are relative L2 errors over a whole output, set at about 4x what the emulation of those
 * roundings gives on this 2-layer model (printed by each test; emulated: TF32 forward 5.7e-4, gradients
 * 1.4e-3, loss 3.6e-5 relative; BF16 4.9e-3, 9.8e-3, 2.6e-3). A mode that silently ran in fp32 would
 * pass; one that rounded more, or a layer that lost its float32 accumulation, would not.
 */
abstract class PrecisionTests {
    abstract CudaBackend backend(Precision p);

    /** ||a - b|| / ||a||. */
    static double relativeError(float[] ref, float[] x) {
        double num = 0, den = 0;
        for (int i = 0; i < ref.length; i++) {
            num += (double) (ref[i] - x[i]) * (ref[i] - x[i]);
            den += (double) ref[i] * ref[i];
        }
        return Math.sqrt(num / den);
    }

    static double bound(Precision p, double tf32, double bf16) {
        return p == Precision.TF32 ? tf32 : bf16;
    }

    @ParameterizedTest
    @EnumSource(value = Precision.class, names = {"TF32", "BF16"})
    void forwardAndOneTrainingStepStayWithinTheRounding(Precision p) {
        BertConfig c = BackendParityTests.config().withLabels(List.of("a", "b", "c"));
        Map<String, Tensor> w = BackendParityTests.weights(BertForSequenceClassification.of(c, Map.of(), 3, 1).parameters(), 21);
        Map<String, Tensor> stripped = new LinkedHashMap<>();
        w.forEach((k, t) -> stripped.put(k.startsWith("bert.") ? k.substring(5) : k, t));
        try (CudaBackend gpu = backend(p)) {
            BertModel cpu = BertModel.of(c, BackendParityTests.copy(stripped), 1);
            BertModel onGpu = BertModel.of(c, BackendParityTests.copy(stripped), 1).to(gpu);
            Batch b = BackendParityTests.batch(new int[] {2, 0, 1});
            double e = relativeError(cpu.forward(b).lastHiddenState().data(), onGpu.forward(b).lastHiddenState().data());
            System.out.printf("%s forward: relative L2 error of last_hidden_state %.3g%n", p, e);
            assertTrue(e > 0 && e < bound(p, 2e-3, 2e-2), p + " forward error " + e);

            BertForSequenceClassification mc = BertForSequenceClassification.of(c, BackendParityTests.copy(stripped), 3, 1);
            BertForSequenceClassification mg = BertForSequenceClassification.of(c, BackendParityTests.copy(stripped), 3, 1).to(gpu);
            Gradients gc = new Gradients(), gg = new Gradients(gpu);
            TrainMode mode = new TrainMode(42, 0, true);
            float lc = mc.trainStep(b, mode, gc).loss(), lg = mg.trainStep(b, mode, gg).loss();
            // Over all gradients together: some are zero in exact arithmetic (attention's key bias: softmax
            // ignores a constant added to every score), so per-tensor relative errors mean nothing there.
            double num = 0, den = 0;
            for (String name : gc.asMap().keySet()) {
                float[] a = gc.get(name), x = gg.get(name);
                for (int i = 0; i < a.length; i++) {
                    num += (double) (a[i] - x[i]) * (a[i] - x[i]);
                    den += (double) a[i] * a[i];
                }
            }
            double worst = Math.sqrt(num / den);
            System.out.printf("%s training step: loss %.6f vs %.6f, relative L2 error of all gradients %.3g%n", p, lc, lg, worst);
            assertTrue(Math.abs(lc - lg) < bound(p, 5e-4, 1e-2) * Math.abs(lc), p + " loss " + lc + " vs " + lg);
            assertTrue(worst < bound(p, 6e-3, 4e-2), p + " gradient error " + worst);
        }
    }
}
