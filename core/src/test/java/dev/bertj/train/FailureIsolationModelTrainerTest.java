package dev.bertj.train;

import dev.bertj.model.BertForSequenceClassification;
import dev.bertj.tensor.Tensor;
import dev.bertj.tokenizer.Batch;
import dev.bertj.tokenizer.BertTokenizer;
import dev.bertj.tokenizer.DataCollatorWithPadding;
import dev.bertj.tokenizer.Encoding;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * No state survives a failed call, for models and trainers (the tokenizer has its own test): failing
 * calls (token ids outside the vocabulary, type ids outside the type vocabulary, more positions than
 * the model has, a mask of the wrong length, labels outside the head) are interleaved with valid ones
 * on one shared object, from one thread and from 16, and every valid result must equal, bit for bit,
 * what a fresh object that has seen nothing else returns.
 */
class FailureIsolationModelTrainerTest {
    static final BertTokenizer TOK = TrainerTest.tokenizer();

    static Batch batch(String... texts) {
        List<Encoding> enc = new ArrayList<>();
        for (String t : texts) enc.add(TOK.encode(t));
        return new DataCollatorWithPadding(TOK).collate(enc);
    }

    static final List<Batch> VALID = List.of(batch("apple pear"), batch("car bus train bike", "fig"),
            batch("plum plum plum", "apple car", "bike bike bike bike bike bike"));

    /** Batches the model must refuse: each breaks one input rule. */
    static final List<Batch> FAILING = List.of(
            new Batch(1, 3, new int[] {2, 13, 3}, new int[3], new int[] {1, 1, 1}, null),        // id 13 >= vocab_size 13
            new Batch(1, 3, new int[] {2, -1, 3}, new int[3], new int[] {1, 1, 1}, null),        // negative id
            new Batch(1, 3, new int[] {2, 5, 3}, new int[] {0, 2, 0}, new int[] {1, 1, 1}, null), // type id 2, type_vocab_size 2
            new Batch(1, 17, new int[17], new int[17], new int[17], null),                       // 17 positions > 16
            new Batch(1, 3, new int[] {2, 5, 3}, new int[3], new int[] {1, 1}, null));           // mask too short

    static float[] logits(BertForSequenceClassification m, Batch b) {
        return m.forward(b).logits().data().clone();
    }

    static void interleaveForward(BertForSequenceClassification shared, List<float[]> expected, long seed, int n) {
        Random r = new Random(seed);
        for (int k = 0; k < n; k++) {
            if (r.nextBoolean()) {
                Batch bad = FAILING.get(r.nextInt(FAILING.size()));
                RuntimeException e = assertThrows(RuntimeException.class, () -> shared.forward(bad));
                assertTrue(e instanceof IllegalArgumentException || e instanceof IndexOutOfBoundsException, "documented: " + e);
                assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), "a message: " + e);
            } else {
                int i = r.nextInt(VALID.size());
                assertArrayEquals(expected.get(i), logits(shared, VALID.get(i)), "batch " + i + " (seed " + seed + ", call " + k + ")");
            }
        }
    }

    @Test
    void aModelGivesFreshAnswersAfterEveryKindOfRefusedBatchFromOneThreadAndFrom16() throws Exception {
        List<float[]> expected = new ArrayList<>();
        for (Batch b : VALID) expected.add(logits(TrainerTest.model(), b));
        BertForSequenceClassification shared = TrainerTest.model();
        for (Batch bad : FAILING) {
            for (int i = 0; i < VALID.size(); i++) {
                assertThrows(RuntimeException.class, () -> shared.forward(bad));
                assertArrayEquals(expected.get(i), logits(shared, VALID.get(i)), "batch " + i + " after a refused one");
            }
        }
        interleaveForward(shared, expected, 1, 200);
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < 16; t++) {
                long seed = 100 + t;
                fs.add(pool.submit(() -> interleaveForward(shared, expected, seed, 60)));
            }
            for (Future<?> f : fs) f.get();
        } finally {
            pool.shutdownNow();
        }
    }

    static Map<String, float[]> weights(BertForSequenceClassification m) {
        Map<String, float[]> w = new java.util.TreeMap<>();
        for (Map.Entry<String, Tensor> e : m.parameters().entrySet()) w.put(e.getKey(), e.getValue().data().clone());
        return w;
    }

    static void assertSameWeights(Map<String, float[]> want, Map<String, float[]> got) {
        assertEquals(want.keySet(), got.keySet());
        for (String k : want.keySet()) assertArrayEquals(want.get(k), got.get(k), k);
    }

    /** A trainer's run that fails on bad data changes nothing: the next valid run ends where a fresh one does. */
    @Test
    void aTrainerThatRefusedBadDataTrainsExactlyAsAFreshOne() throws Exception {
        List<Trainer.Example> good = TrainerTest.data(32, 5);
        Trainer.Settings s = TrainerTest.settings(1, 1);
        BertForSequenceClassification freshModel = TrainerTest.model();
        Trainer fresh = new Trainer(TaskModel.of(freshModel), TOK, s, null);
        fresh.train(good, null, null);
        Map<String, float[]> want = weights(freshModel);
        List<Double> wantCurve = fresh.lossCurve();

        List<Trainer.Example> badLabel = new ArrayList<>(good);
        badLabel.set(20, new Trainer.Example("apple pear", null, 7)); // 2 labels
        List<Trainer.Example> badValidation = List.of(new Trainer.Example("car", null, -3));
        List<Consumer<Trainer>> failing = List.of(
                t -> assertThrows(IllegalArgumentException.class, () -> t.train(badLabel, null, null), "label 7"),
                t -> assertThrows(IllegalArgumentException.class, () -> t.train(good, badValidation, null), "validation label -3"),
                t -> assertThrows(IllegalArgumentException.class, () -> t.evaluate(badValidation), "evaluate label -3"));
        for (Consumer<Trainer> f : failing) {
            BertForSequenceClassification m = TrainerTest.model();
            Trainer shared = new Trainer(TaskModel.of(m), TOK, s, null);
            f.accept(shared);
            assertSameWeights(weights(TrainerTest.model()), weights(m)); // untouched by the refused call
            shared.train(good, null, null);
            assertSameWeights(want, weights(m));
            assertEquals(wantCurve, shared.lossCurve());
        }
    }
}
