package dev.bertj.model;

import dev.bertj.nn.Gradients;
import dev.bertj.tokenizer.Batch;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Training passes reuse their activation arrays ({@link Arena}), which hold the previous step's
 * values: a step on reused arrays must give exactly the gradients of the first step, for both
 * heads, with dropout, and after a batch of another shape came in between.
 */
class ArenaReuseTest {
    private static BertConfig config() {
        return BertConfig.of(Map.of("vocab_size", 13L, "hidden_size", 32L, "num_hidden_layers", 2L,
                "num_attention_heads", 2L, "intermediate_size", 48L, "max_position_embeddings", 16L)).withLabels(List.of("a", "b"));
    }

    private static Batch batch(int b, int s) {
        int[] ids = new int[b * s], mask = new int[b * s], labels = new int[b];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = 1 + (i * 7) % 12;
            mask[i] = i % s < s - (i / s) % 3 ? 1 : 0;
        }
        for (int i = 0; i < b; i++) labels[i] = i % 2;
        return new Batch(b, s, ids, new int[b * s], mask, labels);
    }

    private static Map<String, float[]> grads(Gradients g) {
        Map<String, float[]> copy = new java.util.TreeMap<>();
        g.asMap().forEach((k, v) -> copy.put(k, v.clone()));
        return copy;
    }

    @Test
    void aStepOnReusedArraysGivesTheSameGradients() {
        BertForSequenceClassification seq = BertForSequenceClassification.of(config(), Map.of(), 2, 7);
        java.util.Map<String, Object> extra = new java.util.LinkedHashMap<>(config().toMap());
        extra.put("average_all", true);
        extra.put("ff_output_dim", 8L);
        extra.put("n_classes", 2L);
        BertClassifier custom = BertClassifier.of(BertModel.of(BertConfig.of(extra), Map.of(), 7), Map.of(), 7);
        TrainMode mode = new TrainMode(3, 1, true);
        for (var step : List.<java.util.function.Function<Gradients, Float>>of(
                g -> seq.trainStep(batch(3, 9), mode, g).loss(),
                g -> custom.trainStep(batch(3, 9), mode, g).loss())) {
            Gradients g = new Gradients();
            float first = step.apply(g);
            Map<String, float[]> want = grads(g);
            for (int round = 0; round < 2; round++) {
                // Round 0 runs on the first step's arrays, dirty; round 1 after another shape.
                if (round == 1) {
                    seq.trainStep(batch(2, 5), mode, new Gradients());
                    custom.trainStep(batch(2, 5), mode, new Gradients());
                }
                g.zero();
                assertEquals(first, step.apply(g), 0f);
                Map<String, float[]> got = grads(g);
                assertEquals(want.keySet(), got.keySet());
                for (String k : want.keySet()) assertArrayEquals(want.get(k), got.get(k), 0f, k + " round " + round);
            }
        }
    }
}
