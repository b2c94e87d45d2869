package dev.bertj.model;

import dev.bertj.explain.Explainer;
import dev.bertj.tensor.Tensor;
import dev.bertj.tokenizer.Batch;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.SplittableRandom;

import static dev.bertj.nn.FiniteDifferences.randn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The explain page's gradient x input saliency ({@link Explainer#saliency}, bertj's float32 backward)
 * against finite differences in double precision ({@link DoubleBert}): for token {@code s} with id
 * {@code i}, scaling the word-embedding row {@code E[i]} by {@code 1 + eps} changes {@code log p(target)}
 * at rate {@code E[i] . d log p / d x_s}, which is the saliency when {@code i} occurs once in the
 * sequence. Tiny random BERT with a classification head (the {@link FiniteDifferenceTest} config),
 * one sequence of 7 tokens, the last one padding.
 */
class SaliencyFiniteDifferenceTest {
    private static final int S = 7, CLASSES = 3, TARGET = 2;
    private static final int[] IDS = {2, 5, 7, 3, 9, 4, 0};
    private static final int[] TYPES = {0, 0, 0, 1, 1, 1, 0};
    private static final int[] MASK = {1, 1, 1, 1, 1, 1, 0};

    @Test
    void saliencyEqualsTheFiniteDifferenceOfLogProbabilityAlongEachTokensEmbedding() {
        BertConfig c = FiniteDifferenceTest.config();
        int h = c.hiddenSize(), layers = c.numHiddenLayers();
        Map<String, Tensor> w = FiniteDifferenceTest.encoderWeights(c, 42);
        SplittableRandom rnd = new SplittableRandom(10);
        w.put("classifier.weight", new Tensor(randn(rnd, CLASSES * h, 0, 0.3), CLASSES, h));
        w.put("classifier.bias", new Tensor(randn(rnd, CLASSES, 0, 0.3), CLASSES));
        BertForSequenceClassification m = BertForSequenceClassification.of(c, w, CLASSES, 0);

        Explainer.Attribution a = Explainer.saliency(m, new Batch(1, S, IDS, TYPES, MASK, null), TARGET);

        DoubleBert d = new DoubleBert(c, m.parameters(), "bert.");
        double[] words = d.params.get("bert.embeddings.word_embeddings.weight");
        double eps = 1e-5, worst = 0, largest = 0;
        double[] fd = new double[S];
        for (int s = 0; s < S; s++) {
            if (MASK[s] == 0) continue;
            double[] row = new double[h];
            System.arraycopy(words, IDS[s] * h, row, 0, h);
            for (int j = 0; j < h; j++) words[IDS[s] * h + j] = row[j] * (1 + eps);
            double plus = logProbability(d, layers, c.classifierDropout());
            for (int j = 0; j < h; j++) words[IDS[s] * h + j] = row[j] * (1 - eps);
            double minus = logProbability(d, layers, c.classifierDropout());
            System.arraycopy(row, 0, words, IDS[s] * h, h);
            fd[s] = (plus - minus) / (2 * eps);
            largest = Math.max(largest, Math.abs(fd[s]));
        }
        StringBuilder table = new StringBuilder();
        for (int s = 0; s < S; s++) {
            if (MASK[s] == 0) continue;
            double rel = Math.abs(a.saliency()[s] - fd[s]) / Math.abs(fd[s]);
            worst = Math.max(worst, rel);
            table.append(String.format("  token %d: bertj %+.6e, finite difference %+.6e, relative error %.2e%n", s, a.saliency()[s], fd[s], rel));
        }
        System.err.printf("SaliencyFiniteDifferenceTest: max relative error %.3e (max |saliency| %.3e)%n%s", worst, largest, table);
        assertTrue(largest > 1e-3, "the saliencies are not all vanishing: " + largest);
        assertTrue(worst <= 1e-3, "saliency vs finite difference in double, relative error " + worst + ":\n" + table);
        assertEquals(0f, a.saliency()[S - 1], "padding has no saliency");
        assertEquals(-Math.log(softmax(d.seqClsLogits(IDS, TYPES, MASK, 1, S, layers, c.classifierDropout()))[TARGET]), a.loss(), 1e-5,
                "the loss differentiated is -log p(target)");
    }

    private static double logProbability(DoubleBert d, int layers, float dropout) {
        return Math.log(softmax(d.seqClsLogits(IDS, TYPES, MASK, 1, S, layers, dropout))[TARGET]);
    }

    private static double[] softmax(double[] z) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (double v : z) max = Math.max(max, v);
        double[] p = new double[z.length];
        for (int i = 0; i < z.length; i++) sum += p[i] = Math.exp(z[i] - max);
        for (int i = 0; i < z.length; i++) p[i] /= sum;
        return p;
    }
}
