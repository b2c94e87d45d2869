package dev.bertj.model;

import dev.bertj.cpu.CpuBackend;
import dev.bertj.cpu.ScalarKernels;
import dev.bertj.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The padding-free pass ({@link BertPadding}) gives what the padded pass gives on every real token and
 * on the pooler, and a text's output is the same alone as in a padded batch, on the vector kernels and
 * on the scalar reference.
 */
class PaddingFreeTest {
    private static final int B = 4, S = 9, H = 16;
    private static final int[] LENGTHS = {5, 1, 9, 3};

    private static BertConfig config() {
        return BertConfig.of(Map.of("vocab_size", 29L, "hidden_size", (long) H, "num_hidden_layers", 2L,
                "num_attention_heads", 4L, "intermediate_size", 24L, "max_position_embeddings", 16L, "type_vocab_size", 2L));
    }

    /** Random weights larger than BERT's initialisation, so that a wrong row or position shows. */
    private static BertModel model(long seed) {
        BertConfig c = config();
        SplittableRandom r = new SplittableRandom(seed);
        Map<String, Tensor> w = new LinkedHashMap<>();
        BertModel.of(c, Map.of(), 1).parameters().forEach((k, t) -> {
            float[] v = new float[t.size()];
            for (int i = 0; i < v.length; i++) v[i] = (float) ((k.contains("LayerNorm.weight") ? 1 : 0) + 0.3 * r.nextGaussian());
            w.put(k, new Tensor(v, t.shape()));
        });
        return BertModel.of(c, w, 1);
    }

    private static int[][] batch() {
        int[] ids = new int[B * S], types = new int[B * S], mask = new int[B * S];
        for (int b = 0; b < B; b++) {
            for (int s = 0; s < LENGTHS[b]; s++) {
                ids[b * S + s] = 1 + (b * 7 + s * 5) % 28;
                types[b * S + s] = s >= 2 ? 1 : 0;
                mask[b * S + s] = 1;
            }
        }
        return new int[][] {ids, types, mask};
    }

    @Test
    void packedEqualsPaddedAndAloneOnEveryRealToken() {
        for (BertModel m : new BertModel[] {model(5), model(5).to(new CpuBackend(ScalarKernels.INSTANCE))}) {
            int[][] in = batch();
            assertTrue(BertPadding.offsets(in[2], B, S) != null, "this batch runs padding-free");
            BertModelOutput packed = m.forward(in[0], in[1], in[2], B, S, false, false);
            // Asking for hidden states keeps the padded pass: the reference here.
            BertModelOutput padded = m.forward(in[0], in[1], in[2], B, S, true, false);
            float[] p = packed.lastHiddenState().data(), q = padded.lastHiddenState().data();
            float worst = 0;
            for (int b = 0; b < B; b++) {
                for (int s = 0; s < S; s++) {
                    for (int i = 0; i < H; i++) {
                        int at = (b * S + s) * H + i;
                        if (s < LENGTHS[b]) worst = Math.max(worst, Math.abs(p[at] - q[at]));
                        else assertEquals(0f, p[at], "padding rows are zeros");
                    }
                }
            }
            assertTrue(worst <= 1e-5f, m.backend().name() + ": packed vs padded pass differ by " + worst);
            float[] pp = packed.poolerOutput().data(), qp = padded.poolerOutput().data();
            for (int i = 0; i < pp.length; i++) assertEquals(qp[i], pp[i], 1e-5f, "pooler_output");
            for (int b = 0; b < B; b++) {
                int len = LENGTHS[b];
                int[] ids = java.util.Arrays.copyOfRange(in[0], b * S, b * S + len), types = java.util.Arrays.copyOfRange(in[1], b * S, b * S + len);
                float[] alone = m.forward(ids, types, null, 1, len, false, false).lastHiddenState().data();
                float max = 0;
                for (int j = 0; j < len * H; j++) max = Math.max(max, Math.abs(alone[j] - p[b * S * H + j]));
                assertTrue(max <= 1e-5f, "text " + b + ": alone vs in the batch differ by " + max);
            }
        }
    }

    @Test
    void onlyRightPaddingWithRealTokensRunsPacked() {
        assertArrayEquals(new int[] {0, 2, 3}, BertPadding.offsets(new int[] {1, 1, 0, 1, 0, 0}, 2, 3));
        assertNull(BertPadding.offsets(null, 2, 3), "no mask: nothing to drop");
        assertNull(BertPadding.offsets(new int[] {1, 1, 1, 1, 1, 1}, 2, 3), "no padding");
        assertNull(BertPadding.offsets(new int[] {0, 1, 1, 1, 1, 1}, 2, 3), "left padding");
        assertNull(BertPadding.offsets(new int[] {1, 0, 1, 1, 1, 1}, 2, 3), "a hole");
        assertNull(BertPadding.offsets(new int[] {0, 0, 0, 1, 1, 0}, 2, 3), "an empty row (HF attends uniformly there)");
    }

    @Test
    void leftPaddedBatchesStillRunPaddedAndMatch() {
        BertModel m = model(6);
        int[] ids = {0, 3, 4, 5, 6, 7}, mask = {0, 1, 1, 1, 1, 1};
        float[] got = m.forward(ids, null, mask, 2, 3, false, false).lastHiddenState().data();
        float[] want = m.forward(ids, null, mask, 2, 3, true, false).lastHiddenState().data();
        assertArrayEquals(want, got, "the same padded pass either way");
    }

    /**
     * Training on a right-padded batch runs packed: the same loss and every parameter's gradient as the
     * padded pass (without dropout, and with dropout on the attention probabilities only, whose masks
     * keep the padded layout), on the vector kernels and the scalar reference, through the sequence
     * classification head (pooler) and the masked-LM head (per-token rows).
     */
    @Test
    void packedTrainingEqualsPaddedTraining() {
        int[][] in = batch();
        int[] tokenLabels = new int[B * S];
        java.util.Arrays.fill(tokenLabels, -100);
        tokenLabels[2] = 4;
        tokenLabels[S] = 7;
        tokenLabels[2 * S + 8] = 1;
        BertConfig attnDrop = config().with("hidden_dropout_prob", 0.0).with("attention_probs_dropout_prob", 0.3);
        for (boolean scalar : new boolean[] {false, true}) {
            for (TrainMode mode : new TrainMode[] {TrainMode.noDropout(), new TrainMode(3, 1, true)}) {
                BertConfig c = mode.enabled() ? attnDrop : config();
                String what = (scalar ? "scalar" : "vector") + (mode.enabled() ? ", attention dropout" : "");
                Map<String, float[]> packed = new LinkedHashMap<>(), padded = new LinkedHashMap<>();
                float[] loss = new float[4];
                for (int run = 0; run < 2; run++) {
                    boolean was = BertPadding.enabled;
                    BertPadding.enabled = run == 0;
                    try {
                        BertForSequenceClassification cls = BertForSequenceClassification.of(c, weights(c, 8), 3, 1);
                        BertForMaskedLM mlm = BertForMaskedLM.of(c, weights(c, 8), 1);
                        if (scalar) {
                            cls = cls.to(new CpuBackend(ScalarKernels.INSTANCE));
                            mlm = mlm.to(new CpuBackend(ScalarKernels.INSTANCE));
                        }
                        dev.bertj.nn.Gradients g = new dev.bertj.nn.Gradients(), gm = new dev.bertj.nn.Gradients();
                        loss[run] = cls.trainStep(new dev.bertj.tokenizer.Batch(B, S, in[0], in[1], in[2], new int[] {2, 0, 1, 2}), mode, g).loss();
                        loss[2 + run] = mlm.trainStep(new dev.bertj.tokenizer.Batch(B, S, in[0], in[1], in[2], tokenLabels), mode, gm).loss();
                        Map<String, float[]> into = run == 0 ? packed : padded;
                        g.asMap().forEach((k, v) -> into.put("cls:" + k, v.clone()));
                        gm.asMap().forEach((k, v) -> into.put("mlm:" + k, v.clone()));
                    } finally {
                        BertPadding.enabled = was;
                    }
                }
                assertEquals(loss[1], loss[0], 1e-5f, what + ": classification loss");
                assertEquals(loss[3], loss[2], 1e-5f, what + ": masked-LM loss");
                assertEquals(padded.keySet(), packed.keySet(), what + ": the same parameters get gradients");
                padded.forEach((k, want) -> {
                    float[] got = packed.get(k);
                    float scale = 0;
                    for (float v : want) scale = Math.max(scale, Math.abs(v));
                    for (int i = 0; i < want.length; i++) {
                        assertTrue(Math.abs(want[i] - got[i]) <= 1e-5f * (1 + scale), what + ": " + k + "[" + i + "] " + want[i] + " vs " + got[i]);
                    }
                });
            }
        }
    }

    /** Every weight of the encoder and both heads, random as {@link #model}. */
    private static Map<String, Tensor> weights(BertConfig c, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Map<String, Tensor> w = new LinkedHashMap<>();
        Map<String, Tensor> all = new LinkedHashMap<>(BertModel.of(c, Map.of(), 1).parameters());
        int h = c.hiddenSize();
        all.put("classifier.weight", new Tensor(new float[3 * h], 3, h));
        all.put("classifier.bias", new Tensor(new float[3], 3));
        all.put("cls.predictions.transform.dense.weight", new Tensor(new float[h * h], h, h));
        all.put("cls.predictions.transform.dense.bias", new Tensor(new float[h], h));
        all.put("cls.predictions.transform.LayerNorm.weight", new Tensor(new float[h], h));
        all.put("cls.predictions.transform.LayerNorm.bias", new Tensor(new float[h], h));
        all.put("cls.predictions.bias", new Tensor(new float[c.vocabSize()], c.vocabSize()));
        all.forEach((k, t) -> {
            float[] v = new float[t.size()];
            for (int i = 0; i < v.length; i++) v[i] = (float) ((k.contains("LayerNorm.weight") ? 1 : 0) + 0.3 * r.nextGaussian());
            w.put(k, new Tensor(v, t.shape()));
        });
        return w;
    }
}
