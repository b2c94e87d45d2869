package dev.bertj.model;

import dev.bertj.backend.Backend;
import dev.bertj.backend.Buf;
import dev.bertj.cpu.CpuBackend;
import dev.bertj.cpu.HostBuf;
import dev.bertj.cpu.HostMask;
import dev.bertj.nn.FiniteDifferences;
import dev.bertj.nn.Gradients;
import dev.bertj.tensor.Tensor;
import dev.bertj.tokenizer.Batch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;

import static dev.bertj.nn.FiniteDifferences.dot;
import static dev.bertj.nn.FiniteDifferences.randn;
import static dev.bertj.nn.FiniteDifferences.toDouble;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Finite differences, in double, against bertj's float32 backward for every parameter and input
 * gradient of every BERT block, the whole encoder, and both classification heads (each pooling),
 * on a tiny config: hidden 8, 2 heads, intermediate 12, 2 layers, batch 2 x seq 5 with the second
 * row padded after 3 tokens, vocab 11, every weight (biases and LayerNorm included) random with
 * std 0.3. The objective is {@code L = sum(r * output)} for a fixed random {@code r} (bertj's
 * backward gets {@code dOut = r}), and the real mean cross-entropy for the heads. The function
 * differentiated is {@link DoubleBert}, an independent double forward that first has to agree with
 * bertj's float forward. Blocks run without dropout (TrainMode.noDropout()), and once more with
 * dropout on at every site, its masks held fixed. See {@link FiniteDifferences} for the tolerance.
 */
class FiniteDifferenceTest {
    private static final Backend BE = CpuBackend.get();

    private static Buf h(float[] a) {
        return new HostBuf(a);
    }
    private static final int B = 2, S = 5, H = 8, INTER = 12, LAYERS = 2, CLASSES = 3, FF = 6, ROWS = B * S;
    private static final int[] IDS = {2, 5, 7, 3, 9, 2, 4, 8, 0, 0};
    private static final int[] TYPES = {0, 0, 1, 1, 1, 0, 1, 1, 0, 0};
    private static final int[] MASK = {1, 1, 1, 1, 1, 1, 1, 1, 0, 0};
    private static final int[] LABELS = {2, 0};
    private static final TrainMode DROPOUT = new TrainMode(11, 3, true);

    static BertConfig config() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("vocab_size", 11L);
        m.put("hidden_size", (long) H);
        m.put("num_hidden_layers", (long) LAYERS);
        m.put("num_attention_heads", 2L);
        m.put("intermediate_size", (long) INTER);
        m.put("max_position_embeddings", 8L);
        m.put("type_vocab_size", 2L);
        m.put("hidden_act", "gelu");
        m.put("initializer_range", 0.3);
        m.put("hidden_dropout_prob", 0.2);
        m.put("attention_probs_dropout_prob", 0.2);
        return BertConfig.of(m);
    }

    /** Every encoder weight, random: N(0, 0.3^2), LayerNorm gains N(1, 0.3^2). */
    static Map<String, Tensor> encoderWeights(BertConfig c, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        Map<String, Tensor> w = new LinkedHashMap<>();
        int h = c.hiddenSize(), in = c.intermediateSize();
        put(w, rnd, "embeddings.word_embeddings.weight", c.vocabSize(), h);
        put(w, rnd, "embeddings.position_embeddings.weight", c.maxPositionEmbeddings(), h);
        put(w, rnd, "embeddings.token_type_embeddings.weight", c.typeVocabSize(), h);
        putNorm(w, rnd, "embeddings.LayerNorm.", h);
        for (int i = 0; i < c.numHiddenLayers(); i++) {
            String p = "encoder.layer." + i + ".";
            for (String q : new String[] {"query", "key", "value"}) linear(w, rnd, p + "attention.self." + q + ".", h, h);
            linear(w, rnd, p + "attention.output.dense.", h, h);
            putNorm(w, rnd, p + "attention.output.LayerNorm.", h);
            linear(w, rnd, p + "intermediate.dense.", in, h);
            linear(w, rnd, p + "output.dense.", h, in);
            putNorm(w, rnd, p + "output.LayerNorm.", h);
        }
        linear(w, rnd, "pooler.dense.", h, h);
        return w;
    }

    private static void put(Map<String, Tensor> w, SplittableRandom rnd, String name, int... shape) {
        w.put(name, new Tensor(randn(rnd, (int) Tensor.numel(shape), 0, 0.3), shape));
    }

    private static void linear(Map<String, Tensor> w, SplittableRandom rnd, String prefix, int out, int in) {
        put(w, rnd, prefix + "weight", out, in);
        put(w, rnd, prefix + "bias", out);
    }

    private static void putNorm(Map<String, Tensor> w, SplittableRandom rnd, String prefix, int h) {
        w.put(prefix + "weight", new Tensor(randn(rnd, h, 1, 0.3), h));
        put(w, rnd, prefix + "bias", h);
    }

    private static BertModel model(BertConfig c) {
        BertModel m = BertModel.of(c, encoderWeights(c, 42), 0);
        assertTrue(m.newlyInitialized().isEmpty(), "weights left to initialisation: " + m.newlyInitialized());
        return m;
    }

    /**
     * Checks every parameter of {@code d} named with {@code prefix} against {@code g}, after checking
     * that each gradient bertj produced names such a parameter.
     */
    private static void checkParams(FiniteDifferences.Report rep, DoubleBert d, Gradients g, String prefix, DoubleSupplier loss) {
        for (String name : g.asMap().keySet()) {
            assertTrue(name.startsWith(prefix) && d.params.containsKey(name), "unexpected gradient " + name);
        }
        int n = 0;
        for (Map.Entry<String, double[]> e : d.params.entrySet()) {
            if (!e.getKey().startsWith(prefix)) continue;
            rep.check(e.getKey(), e.getValue(), g.get(e.getKey()), loss);
            n++;
        }
        assertTrue(n > 0, "no parameters under " + prefix);
    }

    private static Batch batch(int[] labels) {
        return new Batch(B, S, IDS, TYPES, MASK, labels);
    }

    @Test
    void embeddings() {
        BertConfig c = config();
        BertModel m = model(c);
        float[] out = new float[ROWS * H], r = randn(new SplittableRandom(1), ROWS * H, 0, 1);
        BertEmbeddings.Ctx ctx = m.embeddings.forward(BE, IDS, TYPES, B, S, h(out), TrainMode.noDropout());
        Gradients g = new Gradients();
        m.embeddings.backward(BE, ctx, h(r.clone()), g);

        DoubleBert d = new DoubleBert(c, m.parameters(), "");
        FiniteDifferences.Report rep = new FiniteDifferences.Report("BertEmbeddings");
        rep.forward("embeddings", d.embeddings(IDS, TYPES, B, S), out);
        checkParams(rep, d, g, "embeddings.", () -> dot(r, d.embeddings(IDS, TYPES, B, S)));
        rep.verify();
    }

    @Test
    void selfAttention() {
        BertConfig c = config();
        BertModel m = model(c);
        BertSelfAttention att = m.encoder.layer.get(1).attention.self;
        SplittableRandom rnd = new SplittableRandom(2);
        float[] x = randn(rnd, ROWS * H, 0, 1), r = randn(rnd, ROWS * H, 0, 1), context = new float[ROWS * H];
        BertSelfAttention.Ctx ctx = att.forward(BE, h(x), MASK, B, S, null, h(context), null, TrainMode.noDropout());
        float[] dx = new float[ROWS * H];
        Gradients g = new Gradients();
        att.backward(BE, ctx, h(r.clone()), h(dx), g);

        DoubleBert d = new DoubleBert(c, m.parameters(), "");
        double[] xd = toDouble(x);
        DoubleSupplier loss = () -> dot(r, d.selfAttention(1, xd, MASK, B, S));
        FiniteDifferences.Report rep = new FiniteDifferences.Report("BertSelfAttention (padding mask)");
        rep.forward("context", d.selfAttention(1, xd, MASK, B, S), context);
        checkParams(rep, d, g, "encoder.layer.1.attention.self.", loss);
        rep.check("input", xd, dx, loss);
        rep.verify();
    }

    /** attention.output (which = 1, BertSelfOutput) and output (which = 2, BertOutput): dense input and residual. */
    private static void denseNorm(int which) {
        BertConfig c = config();
        BertModel m = model(c);
        BertSelfOutput block = which == 1 ? m.encoder.layer.get(0).attention.output : m.encoder.layer.get(0).output;
        int in = which == 1 ? H : INTER;
        SplittableRandom rnd = new SplittableRandom(3 + which);
        float[] x = randn(rnd, ROWS * in, 0, 1), input = randn(rnd, ROWS * H, 0, 1), r = randn(rnd, ROWS * H, 0, 1);
        float[] out = new float[ROWS * H];
        BertSelfOutput.Ctx ctx = block.forward(BE, h(x), h(input), ROWS, h(out), TrainMode.noDropout());
        float[] dInput = new float[ROWS * H], dx = new float[ROWS * in];
        Gradients g = new Gradients();
        block.backward(BE, ctx, h(r.clone()), h(dx), h(dInput), g);

        DoubleBert d = new DoubleBert(c, m.parameters(), "");
        double[] xd = toDouble(x), inputD = toDouble(input);
        DoubleSupplier loss = () -> dot(r, d.denseNorm(0, which, xd, inputD, ROWS));
        FiniteDifferences.Report rep = new FiniteDifferences.Report(which == 1 ? "BertSelfOutput" : "BertOutput");
        rep.forward("output", d.denseNorm(0, which, xd, inputD, ROWS), out);
        checkParams(rep, d, g, which == 1 ? "encoder.layer.0.attention.output." : "encoder.layer.0.output.", loss);
        rep.check("input (dense)", xd, dx, loss);
        rep.check("input (residual)", inputD, dInput, loss);
        rep.verify();
    }

    @Test
    void selfOutput() {
        denseNorm(1);
    }

    @Test
    void output() {
        denseNorm(2);
    }

    @Test
    void intermediate() {
        BertConfig c = config();
        BertModel m = model(c);
        BertIntermediate block = m.encoder.layer.get(0).intermediate;
        SplittableRandom rnd = new SplittableRandom(6);
        float[] x = randn(rnd, ROWS * H, 0, 1), r = randn(rnd, ROWS * INTER, 0, 1), out = new float[ROWS * INTER];
        BertIntermediate.Ctx ctx = block.forward(BE, h(x), ROWS, h(out), TrainMode.noDropout());
        float[] dx = new float[ROWS * H];
        Gradients g = new Gradients();
        block.backward(BE, ctx, h(r.clone()), h(dx), g);

        DoubleBert d = new DoubleBert(c, m.parameters(), "");
        double[] xd = toDouble(x);
        DoubleSupplier loss = () -> dot(r, d.intermediate(0, xd, ROWS));
        FiniteDifferences.Report rep = new FiniteDifferences.Report("BertIntermediate (gelu)");
        rep.forward("output", d.intermediate(0, xd, ROWS), out);
        checkParams(rep, d, g, "encoder.layer.0.intermediate.", loss);
        rep.check("input", xd, dx, loss);
        rep.verify();
    }

    private static void layer(TrainMode mode) {
        BertConfig c = config();
        BertModel m = model(c);
        BertLayer layer = m.encoder.layer.get(1);
        SplittableRandom rnd = new SplittableRandom(7);
        float[] x = randn(rnd, ROWS * H, 0, 1), r = randn(rnd, ROWS * H, 0, 1), out = new float[ROWS * H];
        BertLayer.Ctx ctx = layer.forward(BE, h(x), MASK, B, S, null, h(out), null, mode);
        Gradients g = new Gradients();
        float[] dx = HostBuf.of(layer.backward(BE, ctx, h(r.clone()), g));

        DoubleBert d = new DoubleBert(c, m.parameters(), "").dropout(mode);
        if (mode.enabled()) {
            // The masks the double forward applies are the ones bertj drew, and each site drops something.
            assertMask(d, HostMask.of(ctx.attention().self().keep()), TrainMode.layerSite(1, 0), B * 2 * S * S, c.attentionProbsDropoutProb());
            assertMask(d, HostMask.of(ctx.attention().output().keep()), TrainMode.layerSite(1, 1), ROWS * H, c.hiddenDropoutProb());
            assertMask(d, HostMask.of(ctx.output().keep()), TrainMode.layerSite(1, 2), ROWS * H, c.hiddenDropoutProb());
        }
        double[] xd = toDouble(x);
        DoubleSupplier loss = () -> dot(r, d.layer(1, xd, MASK, B, S));
        FiniteDifferences.Report rep = new FiniteDifferences.Report(mode.enabled() ? "BertLayer (dropout on)" : "BertLayer");
        rep.forward("output", d.layer(1, xd, MASK, B, S), out);
        checkParams(rep, d, g, "encoder.layer.1.", loss);
        rep.check("input", xd, dx, loss);
        rep.verify();
    }

    private static void assertMask(DoubleBert d, boolean[] keep, int site, int n, float p) {
        assertNotNull(keep, "site " + site + " drew no mask");
        double[] m = d.mask(site, n, p);
        boolean[] fromDouble = new boolean[n];
        int dropped = 0;
        for (int i = 0; i < n; i++) {
            fromDouble[i] = m[i] != 0;
            if (!keep[i]) dropped++;
        }
        assertArrayEquals(keep, fromDouble, "mask of site " + site);
        assertTrue(dropped > 0, "site " + site + " dropped nothing");
    }

    @Test
    void layer() {
        layer(TrainMode.noDropout());
    }

    @Test
    void layerWithDropout() {
        layer(DROPOUT);
    }

    @Test
    void pooler() {
        BertConfig c = config();
        BertModel m = model(c);
        SplittableRandom rnd = new SplittableRandom(8);
        float[] hidden = randn(rnd, ROWS * H, 0, 1), r = randn(rnd, B * H, 0, 1), out = new float[B * H];
        BertPooler.Ctx ctx = m.pooler.forward(BE, h(hidden), B, S, h(out));
        float[] dHidden = new float[ROWS * H];
        Gradients g = new Gradients();
        m.pooler.backward(BE, ctx, h(r.clone()), h(dHidden), g);

        DoubleBert d = new DoubleBert(c, m.parameters(), "");
        double[] hd = toDouble(hidden);
        DoubleSupplier loss = () -> dot(r, d.pooler(hd, B, S));
        FiniteDifferences.Report rep = new FiniteDifferences.Report("BertPooler");
        rep.forward("pooled", d.pooler(hd, B, S), out);
        checkParams(rep, d, g, "pooler.", loss);
        rep.check("input (hidden states)", hd, dHidden, loss);
        rep.verify();
    }

    /**
     * The encoder end to end, from both outputs: L = r1 . last_hidden_state + r2 . pooler_output, r1 zero
     * at the padding: the batch trains padding-free, so the padding's hidden states are zeros that no loss
     * may read (as the mask keeps them from every real token in a padded pass).
     */
    @Test
    void bertModel() {
        BertConfig c = config();
        BertModel m = model(c);
        SplittableRandom rnd = new SplittableRandom(9);
        float[] r1 = randn(rnd, ROWS * H, 0, 1), r2 = randn(rnd, B * H, 0, 1);
        for (int r = 0; r < ROWS; r++) if (MASK[r] == 0) java.util.Arrays.fill(r1, r * H, (r + 1) * H, 0f);
        BertModel.TrainPass pass = m.forwardTrain(batch(null), TrainMode.noDropout());
        Gradients g = new Gradients();
        m.backward(pass, h(r1.clone()), h(r2.clone()), g);

        DoubleBert d = new DoubleBert(c, m.parameters(), "");
        double[][] ref = d.model(IDS, TYPES, MASK, B, S, LAYERS);
        for (int r = 0; r < ROWS; r++) if (MASK[r] == 0) java.util.Arrays.fill(ref[0], r * H, (r + 1) * H, 0);
        FiniteDifferences.Report rep = new FiniteDifferences.Report("BertModel");
        rep.forward("last_hidden_state", ref[0], pass.output().lastHiddenState().data());
        rep.forward("pooler_output", ref[1], pass.output().poolerOutput().data());
        checkParams(rep, d, g, "", () -> {
            double[][] o = d.model(IDS, TYPES, MASK, B, S, LAYERS);
            return dot(r1, o[0]) + dot(r2, o[1]);
        });
        rep.verify();
    }

    private static void sequenceClassification(TrainMode mode) {
        BertConfig c = config();
        Map<String, Tensor> w = encoderWeights(c, 42);
        SplittableRandom rnd = new SplittableRandom(10);
        w.put("classifier.weight", new Tensor(randn(rnd, CLASSES * H, 0, 0.3), CLASSES, H));
        w.put("classifier.bias", new Tensor(randn(rnd, CLASSES, 0, 0.3), CLASSES));
        BertForSequenceClassification m = BertForSequenceClassification.of(c, w, CLASSES, 0);
        assertTrue(m.bert().newlyInitialized().isEmpty());
        Gradients g = new Gradients();
        ClassifierOutput out = m.trainStep(batch(LABELS), mode, g);

        DoubleBert d = new DoubleBert(c, m.parameters(), "bert.").dropout(mode, MASK, B, S);
        float p = c.classifierDropout();
        FiniteDifferences.Report rep = new FiniteDifferences.Report("BertForSequenceClassification" + (mode.enabled() ? " (dropout on)" : ""));
        double[] logits = d.seqClsLogits(IDS, TYPES, MASK, B, S, LAYERS, p);
        rep.forward("logits", logits, out.logits().data());
        rep.forward("loss", new double[] {DoubleBert.loss(logits, B, LABELS)}, new float[] {out.loss()});
        checkParams(rep, d, g, "", () -> DoubleBert.loss(d.seqClsLogits(IDS, TYPES, MASK, B, S, LAYERS, p), B, LABELS));
        rep.verify();
    }

    @Test
    void sequenceClassification() {
        sequenceClassification(TrainMode.noDropout());
    }

    @Test
    void sequenceClassificationWithDropout() {
        sequenceClassification(DROPOUT);
    }

    private static void classifier(BertClassifier.Pooling pooling, TrainMode mode) {
        BertConfig c = config().with("ff_output_dim", FF).with("n_classes", CLASSES).with("ff_dropout", 0.2)
                .with(pooling.name().toLowerCase(java.util.Locale.ROOT), true);
        BertModel bert = model(c);
        SplittableRandom rnd = new SplittableRandom(11);
        Map<String, Tensor> head = new LinkedHashMap<>();
        head.put("classification_head.0.weight", new Tensor(randn(rnd, FF * H, 0, 0.3), FF, H));
        head.put("classification_head.0.bias", new Tensor(randn(rnd, FF, 0, 0.3), FF));
        head.put("classification_head.3.weight", new Tensor(randn(rnd, CLASSES * FF, 0, 0.3), CLASSES, FF));
        head.put("classification_head.3.bias", new Tensor(randn(rnd, CLASSES, 0, 0.3), CLASSES));
        BertClassifier m = BertClassifier.of(bert, head, 0);
        Gradients g = new Gradients();
        ClassifierOutput out = m.trainStep(batch(LABELS), mode, g);

        DoubleBert d = new DoubleBert(c, m.parameters(), "").dropout(mode, MASK, B, S);
        FiniteDifferences.Report rep = new FiniteDifferences.Report("BertClassifier " + pooling + (mode.enabled() ? " (dropout on)" : ""));
        double[] logits = d.classifierLogits(IDS, TYPES, MASK, B, S, LAYERS, pooling, 0.2f);
        rep.forward("logits", logits, out.logits().data());
        rep.forward("loss", new double[] {DoubleBert.loss(logits, B, LABELS)}, new float[] {out.loss()});
        checkParams(rep, d, g, "", () -> DoubleBert.loss(d.classifierLogits(IDS, TYPES, MASK, B, S, LAYERS, pooling, 0.2f), B, LABELS));
        rep.verify();
    }

    @ParameterizedTest
    @EnumSource(BertClassifier.Pooling.class)
    void classifier(BertClassifier.Pooling pooling) {
        classifier(pooling, TrainMode.noDropout());
    }

    @Test
    void classifierWithDropout() {
        classifier(BertClassifier.Pooling.AVERAGE_ALL, DROPOUT);
    }

    /** BertForMaskedLM: per-token labels on three positions; the tied word-embedding table gets the decoder's and the embeddings' gradients. */
    @Test
    void maskedLm() {
        BertConfig c = config();
        Map<String, Tensor> w = encoderWeights(c, 42);
        SplittableRandom rnd = new SplittableRandom(12);
        w.put("cls.predictions.transform.dense.weight", new Tensor(randn(rnd, H * H, 0, 0.3), H, H));
        w.put("cls.predictions.transform.dense.bias", new Tensor(randn(rnd, H, 0, 0.3), H));
        w.put("cls.predictions.transform.LayerNorm.weight", new Tensor(randn(rnd, H, 1, 0.3), H));
        w.put("cls.predictions.transform.LayerNorm.bias", new Tensor(randn(rnd, H, 0, 0.3), H));
        w.put("cls.predictions.bias", new Tensor(randn(rnd, c.vocabSize(), 0, 0.3), c.vocabSize()));
        BertForMaskedLM m = BertForMaskedLM.of(c, w, 0);
        int[] tokenLabels = new int[ROWS];
        java.util.Arrays.fill(tokenLabels, -100);
        tokenLabels[1] = 4;
        tokenLabels[3] = 10;
        tokenLabels[6] = 2;
        int[] positions = {1, 3, 6}, compact = {4, 10, 2};
        Gradients g = new Gradients();
        MaskedLmOutput out = m.trainStep(batch(tokenLabels), TrainMode.noDropout(), g);
        MaskedLmOutput inference = m.forward(batch(tokenLabels));
        assertArrayEquals(positions, out.positions());

        DoubleBert d = new DoubleBert(c, m.parameters(), "bert.");
        FiniteDifferences.Report rep = new FiniteDifferences.Report("BertForMaskedLM (tied decoder)");
        double[] logits = d.maskedLmLogits(IDS, TYPES, MASK, B, S, LAYERS, positions);
        rep.forward("logits", logits, inference.logits().data());
        rep.forward("loss", new double[] {DoubleBert.loss(logits, positions.length, compact)}, new float[] {out.loss()});
        checkParams(rep, d, g, "", () -> DoubleBert.loss(d.maskedLmLogits(IDS, TYPES, MASK, B, S, LAYERS, positions), positions.length, compact));
        rep.verify();
    }
}
