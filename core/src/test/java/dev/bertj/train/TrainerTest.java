package dev.bertj.train;

import dev.bertj.model.BertConfig;
import dev.bertj.model.BertForSequenceClassification;
import dev.bertj.tokenizer.BertTokenizer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The trainer on a tiny random BERT and a task it can learn: which of two word sets a text uses. */
class TrainerTest {
    static final List<String> WORDS = List.of("apple", "pear", "plum", "fig", "car", "bus", "train", "bike");

    static BertTokenizer tokenizer() {
        List<String> tokens = new ArrayList<>(List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"));
        tokens.addAll(WORDS);
        return BertTokenizer.builder().tokens(tokens).build();
    }

    static List<Trainer.Example> data(int n, long seed) {
        Random r = new Random(seed);
        List<Trainer.Example> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int label = r.nextInt(2);
            StringBuilder sb = new StringBuilder();
            for (int k = 0, len = 3 + r.nextInt(6); k < len; k++) sb.append(WORDS.get(label * 4 + r.nextInt(4))).append(' ');
            out.add(new Trainer.Example(sb.toString(), null, label));
        }
        return out;
    }

    static BertForSequenceClassification model() {
        BertConfig c = BertConfig.of(Map.of("vocab_size", 13L, "hidden_size", 16L, "num_hidden_layers", 2L,
                "num_attention_heads", 2L, "intermediate_size", 24L, "max_position_embeddings", 16L));
        return BertForSequenceClassification.of(c, Map.of(), 2, 7);
    }

    static Trainer.Settings settings(int epochs, int accumulation) {
        return new Trainer.Settings(epochs, 0, 8, accumulation, 5e-3, 0.1, 0.01, 1.0, 16, 42);
    }

    @Test
    void learnsASeparableTaskAndTheLossGoesDown() throws Exception {
        Trainer t = new Trainer(TaskModel.of(model()), tokenizer(), settings(4, 1), null);
        List<Trainer.Example> train = data(96, 1), test = data(64, 2);
        double before = t.evaluate(test).loss();
        t.train(train, null, null);
        Metrics after = t.evaluate(test);
        List<Double> curve = t.lossCurve();
        assertEquals(48, curve.size(), "4 epochs x 12 batches");
        double first = curve.subList(0, 6).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
        double last = curve.subList(42, 48).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
        assertTrue(last < first * 0.5, "loss " + first + " -> " + last);
        assertTrue(after.loss() < before, "test loss " + before + " -> " + after.loss());
        assertTrue(after.accuracy() > 0.9, "accuracy " + after.accuracy());
    }

    @Test
    void sameSeedGivesABitIdenticalLossCurve() throws Exception {
        List<Double> a, b;
        Trainer t1 = new Trainer(TaskModel.of(model()), tokenizer(), settings(1, 2), null);
        t1.train(data(64, 3), null, null);
        a = t1.lossCurve();
        Trainer t2 = new Trainer(TaskModel.of(model()), tokenizer(), settings(1, 2), null);
        t2.train(data(64, 3), null, null);
        b = t2.lossCurve();
        assertEquals(4, a.size(), "8 batches with accumulation 2");
        assertEquals(a, b);
    }

    @Test
    void aNonFiniteLossStopsTraining() {
        Trainer t = new Trainer(TaskModel.of(model()), tokenizer(), new Trainer.Settings(1, 0, 8, 1, 1e30, 0, 0, 0, 16, 42), null);
        assertThrows(Trainer.NonFiniteLossException.class, () -> t.train(data(64, 4), null, null));
    }

    @Test
    void metricsFollowScikitLearn() {
        // y_true = [0,0,1,1,1], y_pred = [0,1,1,1,0]: accuracy 3/5; f1 (pos 1) = 2*2/(2*2+1+1) = 0.6667
        Metrics m = Metrics.of(new int[] {0, 0, 1, 1, 1}, new int[] {0, 1, 1, 1, 0}, 2.5, 2);
        assertEquals(0.6, m.accuracy(), 1e-12);
        assertEquals(4.0 / 6.0, m.f1(), 1e-12);
        assertEquals(0.5, m.loss(), 1e-12);
        assertEquals(1, m.confusion()[0][1]);
        assertEquals(1, m.confusion()[1][0]);
    }
}
