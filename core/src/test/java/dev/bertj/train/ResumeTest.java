package dev.bertj.train;

import dev.bertj.backend.Backend;
import dev.bertj.model.BertClassifier;
import dev.bertj.model.BertConfig;
import dev.bertj.model.BertForMaskedLM;
import dev.bertj.model.BertForSequenceClassification;
import dev.bertj.model.BertModel;
import dev.bertj.model.CustomHeadConfig;
import dev.bertj.tokenizer.BertTokenizer;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A run interrupted after step k and resumed from its last checkpoint ends bit-identical to an
 * uninterrupted run: same weights (every float's bits), same loss curve, same per-epoch metrics. For
 * both classification heads and masked-LM, with dropout on (p = 0.1 everywhere), gradient
 * accumulation 2, warmup, weight decay and clipping, two epochs whose last step has one micro-batch.
 *
 * <p>The models run on the production CPU kernels (the Vector API's, when the test JVM has
 * jdk.incubator.vector). They are deterministic across JIT states: softmax and GELU compute exp from
 * adds, multiplies and FMAs (VectorKernels.exp), where {@code lanewise(EXP)} used to round one way
 * interpreted and another compiled, so a fresh JVM's first steps differed from a warm one's.
 *
 * <p>52 examples in batches of 8 make 7 micro-batches, so 4 steps per epoch and 8 in all; checkpoints
 * come every 3 steps (3 and 6, mid-epoch) and at each epoch's end (4 and 8). A crash at step 5 resumes
 * from the epoch-end checkpoint 4; a crash at step 7 from the mid-epoch checkpoint 6, redoing step 7.
 */
class ResumeTest {
    @TempDir
    Path tmp;

    static final BertTokenizer TOK = TrainerTest.tokenizer();

    static BertConfig config() {
        // BertConfig's defaults give hidden and attention dropout 0.1: dropout is on.
        return BertConfig.of(Map.of("vocab_size", 13L, "hidden_size", 16L, "num_hidden_layers", 2L,
                "num_attention_heads", 2L, "intermediate_size", 24L, "max_position_embeddings", 16L));
    }

    /** The CPU backend users get (see the class comment). */
    static final Backend CPU = dev.bertj.backend.Backends.cpu();

    /** A fresh model of each kind, the same every call. */
    static TrainableModel fresh(String kind) {
        BertConfig c = config();
        return switch (kind) {
            case "seqcls" -> TaskModel.of(BertForSequenceClassification.of(c, Map.of(), 2, 7).to(CPU));
            case "custom" -> {
                BertConfig cc = new CustomHeadConfig(8, 2, 0.1, BertClassifier.Pooling.AVERAGE_ALL).apply(c.with("architectures", List.of("BertClassifier")));
                yield TaskModel.of(BertClassifier.of(BertModel.of(cc, Map.of(), 7), Map.of(), 7).to(CPU));
            }
            case "mlm" -> MaskedLmTaskModel.of(BertForMaskedLM.of(c, Map.of(), 7).to(CPU));
            default -> throw new IllegalArgumentException(kind);
        };
    }

    /** The model a new process would build from a checkpoint directory. */
    static TrainableModel load(String kind, Path dir) throws Exception {
        return switch (kind) {
            case "seqcls" -> TaskModel.of(Checkpoint.loadSequenceClassification(dir).to(CPU));
            case "custom" -> TaskModel.of(Checkpoint.loadClassifier(dir).to(CPU));
            case "mlm" -> MaskedLmTaskModel.of(Checkpoint.loadMaskedLm(dir).to(CPU));
            default -> throw new IllegalArgumentException(kind);
        };
    }

    static Trainer.Settings settings() {
        return new Trainer.Settings(2, 0, 8, 2, 5e-3, 0.2, 0.01, 0.5, 16, 42, 0.3);
    }

    static List<Trainer.Example> data(String kind, int n, long seed) {
        List<Trainer.Example> d = TrainerTest.data(n, seed);
        if (!kind.equals("mlm")) return d;
        List<Trainer.Example> texts = new ArrayList<>();
        for (Trainer.Example e : d) texts.add(Trainer.Example.text(e.text()));
        return texts;
    }

    /** Every parameter's bits, by name. */
    static Map<String, int[]> bits(TrainableModel m) {
        Map<String, int[]> out = new LinkedHashMap<>();
        m.parameters().forEach((k, t) -> {
            float[] d = t.data();
            int[] b = new int[d.length];
            for (int i = 0; i < d.length; i++) b[i] = Float.floatToRawIntBits(d[i]);
            out.put(k, b);
        });
        return out;
    }

    static void assertSameBits(Map<String, int[]> want, Map<String, int[]> got) {
        assertEquals(want.keySet(), got.keySet());
        for (String k : want.keySet()) {
            int[] a = want.get(k), b = got.get(k);
            for (int i = 0; i < a.length; i++) {
                if (a[i] != b[i]) {
                    throw new AssertionError(k + "[" + i + "]: " + Float.intBitsToFloat(a[i]) + " uninterrupted vs " + Float.intBitsToFloat(b[i]) + " resumed");
                }
            }
        }
    }

    static final class Crash extends RuntimeException {
        Crash() {
            super("simulated crash");
        }
    }

    @ParameterizedTest(name = "{0}, crash after step {1}")
    @CsvSource({"seqcls, 5, 4", "seqcls, 7, 6", "custom, 7, 6", "mlm, 5, 4", "mlm, 7, 6"})
    void anInterruptedRunResumedFromItsLastCheckpointEndsBitIdentical(String kind, int crashAt, int resumeAt) throws Exception {
        List<Trainer.Example> train = data(kind, 52, 11), validation = data(kind, 20, 12);

        TrainableModel whole = fresh(kind);
        Trainer uninterrupted = new Trainer(whole, TOK, settings(), null).checkpointing(new Trainer.Checkpointing(tmp.resolve("whole"), 3, 2, null));
        assertEquals(8, uninterrupted.train(train, validation, null));
        Map<String, int[]> want = bits(whole);

        Path out = tmp.resolve("run");
        TrainableModel first = fresh(kind);
        Trainer crashing = new Trainer(first, TOK, settings(), null).checkpointing(new Trainer.Checkpointing(out, 3, 2, null))
                .onStep((step, loss) -> {
                    if (step == crashAt) throw new Crash();
                });
        assertThrows(Crash.class, () -> crashing.train(train, validation, null));
        Path last = TrainingCheckpoints.latest(out);
        assertEquals(out.resolve("checkpoint-" + resumeAt), last);
        assertEquals(2, TrainingCheckpoints.checkpoints(out).size(), "--save-total-limit 2 keeps two");

        TrainableModel resumed = load(kind, last);
        Trainer again = new Trainer(resumed, TOK, settings(), null).checkpointing(new Trainer.Checkpointing(out, 3, 2, null)).resumeFrom(last);
        assertEquals(8, again.train(train, validation, null));

        if (kind.equals("mlm")) {
            // HF's BertForMaskedLM has no pooler: a newly initialised one is neither trained (no gradient
            // reaches it) nor saved, so the resumed model's is another random one. Everything saved must agree.
            want.keySet().removeIf(k -> k.startsWith("bert.pooler."));
        }
        Map<String, int[]> got = bits(resumed);
        if (kind.equals("mlm")) got.keySet().removeIf(k -> k.startsWith("bert.pooler."));
        assertSameBits(want, got);
        assertEquals(uninterrupted.lossCurve(), again.lossCurve());
        assertEquals(uninterrupted.epochLog(), again.epochLog(), "per-epoch losses and validation metrics");
        // The final checkpoints agree too: same weights and the same optimizer state.
        assertSameBits(bits(load(kind, tmp.resolve("whole/checkpoint-8"))), bits(load(kind, out.resolve("checkpoint-8"))));
        assertEquals(TrainerState.read(tmp.resolve("whole/checkpoint-8")).toJson(), TrainerState.read(out.resolve("checkpoint-8")).toJson());
    }

}
