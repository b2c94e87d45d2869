package dev.bertj.model;

import dev.bertj.backend.Activation;
import dev.bertj.backend.Backend;
import dev.bertj.backend.Buf;
import dev.bertj.backend.Mask;
import dev.bertj.io.AtomicFiles;
import dev.bertj.nn.Gradients;
import dev.bertj.nn.Linear;
import dev.bertj.tensor.Tensor;
import dev.bertj.tokenizer.Batch;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The notebook's custom classification head on BERT ({@code "architectures": ["BertClassifier"]}),
 * configured by a {@link CustomHeadConfig}:
 * <pre>
 * features = cls_only:    last_hidden_state[:, 0]
 *            average_all: mean of last_hidden_state over real tokens (attention_mask = 1)
 *            pooler:      pooler_output
 * logits = classification_head.3( dropout( relu( classification_head.0(features) ) ) )
 * </pre>
 * Note: the notebook's average_all takes a plain mean over all positions, padding included, so a
 * sentence's features there depend on its batch-mates; bertj averages real tokens only, so they do not.
 */
public final class BertClassifier extends SequenceClassifier<BertClassifier> {
    /** How features are pooled from the encoder. */
    public enum Pooling { CLS_ONLY, AVERAGE_ALL, POOLER }

    final Linear head0;
    final Linear head3;
    private final CustomHeadConfig head;

    BertClassifier(BertModel bert, Linear head0, Linear head3, CustomHeadConfig head) {
        super(bert);
        this.head0 = head0;
        this.head3 = head3;
        this.head = head;
        if (head.pooling() == Pooling.POOLER) bert.usingPooler();
    }

    /**
     * Builds the head from the config's CustomConfig fields ({@link CustomHeadConfig#from}); weights
     * named {@code classification_head.{0,3}.{weight,bias}} come from {@code weights}, missing ones are
     * initialised from {@code seed} (with a warning).
     */
    public static BertClassifier of(BertModel bert, Map<String, Tensor> weights, long seed) {
        return of(bert, weights, "the custom head weights", seed);
    }

    private static BertClassifier of(BertModel bert, Map<String, Tensor> weights, String source, long seed) {
        BertConfig c = bert.config();
        CustomHeadConfig hc = CustomHeadConfig.from(c);
        int ff = hc.ffOutputDim(), n = hc.nClasses();
        WeightSource w = new WeightSource(weights, source, c.initializerRange(), seed);
        Linear h0 = new Linear(w.get("classification_head.0.weight", WeightSource.Init.NORMAL, ff, c.hiddenSize()),
                w.get("classification_head.0.bias", WeightSource.Init.ZEROS, ff));
        Linear h3 = new Linear(w.get("classification_head.3.weight", WeightSource.Init.NORMAL, n, ff),
                w.get("classification_head.3.bias", WeightSource.Init.ZEROS, n));
        w.finish();
        return new BertClassifier(bert, h0, h3, hc);
    }

    /**
     * Loads a custom-head checkpoint directory ({@code config.json} with the CustomConfig fields,
     * {@code model.safetensors} with unprefixed encoder names and {@code classification_head.*}).
     * Encoder names with HF's {@code bert.} prefix are accepted too. Missing weights are
     * initialised from {@code seed} (encoder) and {@code seed + 1} (head), with HF's warning.
     */
    public static BertClassifier fromPretrained(Path dir, long seed) throws IOException {
        return fromPretrained(dir, null, seed);
    }

    /**
     * As {@link #fromPretrained(Path, long)}, with {@code head} (when not null) applied to config.json
     * first: how a new head goes on an encoder-only directory, whose config.json has none of its fields.
     */
    public static BertClassifier fromPretrained(Path dir, CustomHeadConfig head, long seed) throws IOException {
        BertConfig config = BertConfig.read(AtomicFiles.requireFile(dir.resolve("config.json"), "missing model file"));
        if (head != null) config = head.apply(config);
        Path st = AtomicFiles.requireFile(dir.resolve("model.safetensors"), "missing model file");
        Map<String, Tensor> weights = BertModel.loadWeights(st, "bert.");
        // Check the head config before building the encoder, so a bad config fails fast.
        CustomHeadConfig.from(config);
        BertModel bert = new BertModel(config, new WeightSource(weights, st.toString(), config.initializerRange(), seed));
        return of(bert, weights, st.toString(), seed + 1);
    }

    /** The head's configuration. */
    public CustomHeadConfig headConfig() {
        return head;
    }

    /** The pooling in use. */
    public Pooling pooling() {
        return head.pooling();
    }

    @Override
    public int numLabels() {
        return head3.out();
    }

    /** Every weight by checkpoint name: the encoder's (unprefixed) and {@code classification_head.{0,3}.*}. */
    @Override
    public Map<String, Tensor> parameters() {
        Map<String, Tensor> m = new LinkedHashMap<>(bert.parameters());
        m.put("classification_head.0.weight", head0.weight());
        m.put("classification_head.0.bias", head0.bias());
        m.put("classification_head.3.weight", head3.weight());
        m.put("classification_head.3.bias", head3.bias());
        return m;
    }

    @Override
    void logits(Backend be, BertModelOutput out, Batch batch, Buf logits) {
        int b = batch.batchSize(), h = bert.config().hiddenSize();
        Buf hidden = head.pooling() == Pooling.POOLER ? null : be.upload(out.lastHiddenState().data());
        Buf pooled = head.pooling() == Pooling.POOLER ? be.upload(out.poolerOutput().data()) : null;
        Buf f = features(be, hidden, pooled, batch, be.floats(b * h));
        Buf mid = be.floats(b * head0.out());
        be.linear(f, b, head0, mid, Activation.RELU);
        be.linear(mid, b, head3, logits, null);
    }

    /**
     * <pre>
     * f = pool(hidden);  z = head0(f);  a = dropout(relu(z));  logits = head3(a)
     * da = head3'(CE');  dz = relu'(dropout'(da));  df = head0'(dz);  then pool' and BertModel backward
     * </pre>
     */
    @Override
    ClassifierOutput headStep(BertModel.TrainPass pass, Batch batch, TrainMode mode, Gradients g) {
        Backend be = pass.backend;
        int b = batch.batchSize(), s = batch.seqLen(), h = bert.config().hiddenSize();
        Buf features = features(be, pass.lastHidden, pass.pooled, batch, pass.floats(b * h));
        int ff = head0.out(), n = head3.out();
        Buf z = pass.floats(b * ff), a = pass.floats(b * ff);
        be.linear(features, b, head0, z, null);
        be.copy(z, a, b * ff);
        be.activation(Activation.RELU, a, b * ff);
        float p = (float) head.ffDropout();
        Mask keep = mode.drop(be, a, b * ff, p, TrainMode.CLASSIFIER);
        Buf logits = pass.floats(b * n), dLogits = pass.floats(b * n);
        be.linear(a, b, head3, logits, null);
        float loss = be.crossEntropy(logits, b, n, batch.labels(), dLogits);
        Buf da = pass.floats(b * ff);
        head3.backward(be, "classification_head.3", a, dLogits, 0, n, b, da, false, g);
        if (keep != null) be.dropoutBackward(da, b * ff, p, keep);
        be.activationBackward(Activation.RELU, z, da, b * ff);
        Buf df = pass.floats(b * h);
        head0.backward(be, "classification_head.0", features, da, 0, ff, b, df, false, g);
        Buf dHidden = null, dPooled = null;
        switch (head.pooling()) {
            case POOLER -> dPooled = df;
            case CLS_ONLY -> {
                dHidden = pass.zeros(b * s * h);
                be.copyRows(df, 0, h, dHidden, 0, s * h, b, h, false);
            }
            case AVERAGE_ALL -> {
                dHidden = pass.floats(b * s * h);
                be.meanPoolBackward(df, batch.attentionMask(), b, s, h, dHidden);
            }
        }
        bert.backward(pass, dHidden, dPooled, g);
        return new ClassifierOutput(new Tensor(be.download(logits, new float[b * n]), b, n), loss);
    }

    /** The head's input from the encoder's outputs, per {@link #pooling()}, into {@code out} ([B, H]). */
    private Buf features(Backend be, Buf hidden, Buf pooled, Batch batch, Buf out) {
        int b = batch.batchSize(), s = batch.seqLen(), h = bert.config().hiddenSize();
        switch (head.pooling()) {
            case POOLER -> be.copy(pooled, out, b * h);
            case CLS_ONLY -> be.copyRows(hidden, 0, s * h, out, 0, h, b, h, false);
            case AVERAGE_ALL -> be.meanPool(hidden, batch.attentionMask(), b, s, h, out);
        }
        return out;
    }
}
