package dev.bertj.model;

import dev.bertj.io.AtomicFiles;
import dev.bertj.backend.Backend;
import dev.bertj.backend.Buf;
import dev.bertj.backend.Device;
import dev.bertj.backend.Mask;
import dev.bertj.nn.Gradients;
import dev.bertj.nn.Linear;
import dev.bertj.tensor.Tensor;
import dev.bertj.tokenizer.Batch;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * The notebook's custom classification head on BERT ({@code "architectures": ["BertClassifier"]}):
 * <pre>
 * features = cls_only:    last_hidden_state[:, 0]
 *            average_all: mean of last_hidden_state over real tokens (attention_mask = 1)
 *            pooler:      pooler_output
 * logits = classification_head.3( dropout( relu( classification_head.0(features) ) ) )
 * </pre>
 * Exactly one pooling flag must be set. Note: the notebook's average_all takes a plain mean over
 * all positions, padding included, so a sentence's features there depend on its batch-mates;
 * bertj averages real tokens only, so they do not.
 */
public final class BertClassifier {
    /** How features are pooled from the encoder. */
    public enum Pooling { CLS_ONLY, AVERAGE_ALL, POOLER }

    final BertModel bert;
    final Linear head0;
    final Linear head3;
    private final Pooling pooling;

    BertClassifier(BertModel bert, Linear head0, Linear head3, Pooling pooling) {
        this.bert = bert;
        this.head0 = head0;
        this.head3 = head3;
        this.pooling = pooling;
    }

    /** Reads the pooling from the notebook's CustomConfig flags; anything but exactly one set is an error. */
    public static Pooling pooling(BertConfig config) {
        Map<String, Object> m = config.toMap();
        boolean cls = Boolean.TRUE.equals(m.get("cls_only")), avg = Boolean.TRUE.equals(m.get("average_all"));
        boolean pool = Boolean.TRUE.equals(m.get("pooler"));
        int set = (cls ? 1 : 0) + (avg ? 1 : 0) + (pool ? 1 : 0);
        if (set != 1) {
            throw new IllegalArgumentException("the custom head needs exactly one of cls_only, average_all, pooler set to true; config has cls_only="
                    + m.get("cls_only") + ", average_all=" + m.get("average_all") + ", pooler=" + m.get("pooler"));
        }
        return cls ? Pooling.CLS_ONLY : avg ? Pooling.AVERAGE_ALL : Pooling.POOLER;
    }

    /**
     * Builds the head from the config's ff_output_dim and n_classes; weights named
     * {@code classification_head.{0,3}.{weight,bias}} come from {@code weights}, missing ones are
     * initialised from {@code seed} (with a warning).
     */
    public static BertClassifier of(BertModel bert, Map<String, Tensor> weights, long seed) {
        return of(bert, weights, "the custom head weights", seed);
    }

    private static BertClassifier of(BertModel bert, Map<String, Tensor> weights, String source, long seed) {
        BertConfig c = bert.config();
        Pooling p = pooling(c);
        int ff = intKey(c, "ff_output_dim"), n = intKey(c, "n_classes");
        WeightSource w = new WeightSource(weights, source, c.initializerRange(), seed);
        Linear h0 = new Linear(w.get("classification_head.0.weight", WeightSource.Init.NORMAL, ff, c.hiddenSize()),
                w.get("classification_head.0.bias", WeightSource.Init.ZEROS, ff));
        Linear h3 = new Linear(w.get("classification_head.3.weight", WeightSource.Init.NORMAL, n, ff),
                w.get("classification_head.3.bias", WeightSource.Init.ZEROS, n));
        w.finish();
        return new BertClassifier(bert, h0, h3, p);
    }

    /**
     * Loads a custom-head checkpoint directory ({@code config.json} with the CustomConfig fields,
     * {@code model.safetensors} with unprefixed encoder names and {@code classification_head.*}).
     * Encoder names with HF's {@code bert.} prefix are accepted too. Missing weights are
     * initialised from {@code seed} (encoder) and {@code seed + 1} (head), with HF's warning.
     */
    public static BertClassifier fromPretrained(Path dir, long seed) throws IOException {
        return fromPretrained(dir, Map.of(), seed);
    }

    /**
     * As {@link #fromPretrained(Path, long)}, with {@code configOverrides} set on config.json's
     * values first: how a new head (ff_output_dim, n_classes, ff_dropout, one pooling flag) goes
     * on an encoder-only directory, whose config.json has none of them.
     */
    public static BertClassifier fromPretrained(Path dir, Map<String, Object> configOverrides, long seed) throws IOException {
        BertConfig config = BertConfig.read(AtomicFiles.requireFile(dir.resolve("config.json"), "missing model file"));
        for (Map.Entry<String, Object> e : configOverrides.entrySet()) config = config.with(e.getKey(), e.getValue());
        Path st = AtomicFiles.requireFile(dir.resolve("model.safetensors"), "missing model file");
        Map<String, Tensor> weights = BertModel.loadWeights(st, "bert.");
        // Check the head config before building the encoder, so a bad config fails fast.
        pooling(config);
        BertModel bert = new BertModel(config, new WeightSource(weights, st.toString(), config.initializerRange(), seed));
        return of(bert, weights, st.toString(), seed + 1);
    }

    private static int intKey(BertConfig c, String key) {
        Object v = c.toMap().get(key);
        if (!(v instanceof Number num) || num.longValue() <= 0) {
            throw new IllegalArgumentException("config.json needs a positive integer " + key + " for the custom head, got " + v);
        }
        return num.intValue();
    }

    /** Every weight by checkpoint name: the encoder's (unprefixed) and {@code classification_head.{0,3}.*}. */
    public Map<String, Tensor> parameters() {
        Map<String, Tensor> m = new java.util.LinkedHashMap<>(bert.parameters());
        m.put("classification_head.0.weight", head0.weight());
        m.put("classification_head.0.bias", head0.bias());
        m.put("classification_head.3.weight", head3.weight());
        m.put("classification_head.3.bias", head3.bias());
        return m;
    }

    /**
     * One training forward and backward: logits and mean loss, gradients accumulated into {@code g}.
     * <pre>
     * f = pool(hidden);  z = head0(f);  a = dropout(relu(z));  logits = head3(a)
     * da = head3'(CE');  dz = relu'(dropout'(da));  df = head0'(dz);  then pool' and BertModel backward
     * </pre>
     */
    public ClassifierOutput trainStep(Batch batch, TrainMode mode, Gradients g) {
        return bert.trainWithHead(batch, mode, pass -> headStep(pass, batch, mode, g));
    }

    private ClassifierOutput headStep(BertModel.TrainPass pass, Batch batch, TrainMode mode, Gradients g) {
        Backend be = pass.backend;
        int b = batch.batchSize(), s = batch.seqLen(), h = bert.config().hiddenSize();
        Buf features = features(be, pass.lastHidden, pass.pooled, batch, pass.floats(b * h));
        int ff = head0.out(), n = head3.out();
        Buf z = pass.floats(b * ff), a = pass.floats(b * ff);
        be.linear(features, b, head0, z, false);
        be.copyRows(z, 0, 0, a, 0, 0, 1, b * ff, false);
        be.activation("relu", a, b * ff);
        float p = ffDropout();
        Mask keep = mode.drop(be, a, b * ff, p, TrainMode.CLASSIFIER);
        Buf logits = pass.floats(b * n), dLogits = pass.floats(b * n);
        be.linear(a, b, head3, logits, false);
        float loss = be.crossEntropy(logits, b, n, batch.labels(), dLogits);
        Buf da = pass.floats(b * ff);
        head3.backward(be, "classification_head.3", a, dLogits, 0, n, b, da, false, g);
        if (keep != null) be.dropoutBackward(da, b * ff, p, keep);
        be.reluBackward(z, da, b * ff);
        Buf df = pass.floats(b * h);
        head0.backward(be, "classification_head.0", features, da, 0, ff, b, df, false, g);
        Buf dHidden = null, dPooled = null;
        switch (pooling) {
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
        switch (pooling) {
            case POOLER -> be.copyRows(pooled, 0, 0, out, 0, 0, 1, b * h, false);
            case CLS_ONLY -> be.copyRows(hidden, 0, s * h, out, 0, h, b, h, false);
            case AVERAGE_ALL -> be.meanPool(hidden, batch.attentionMask(), b, s, h, out);
        }
        return out;
    }

    private float ffDropout() {
        Object v = bert.config().toMap().get("ff_dropout");
        return v instanceof Number num ? num.floatValue() : bert.config().hiddenDropoutProb();
    }

    /** The encoder; its config holds the head's CustomConfig fields. */
    public BertModel bert() {
        return bert;
    }

    /** The pooling in use. */
    public Pooling pooling() {
        return pooling;
    }

    /** Moves the model to {@code device} (see {@link BertModel#to}) and returns it. */
    public BertClassifier to(Device device) {
        bert.to(device);
        return this;
    }

    /** Moves the model onto this backend instance (see {@link BertModel#to(Backend)}) and returns it. */
    public BertClassifier to(Backend backend) {
        bert.to(backend);
        return this;
    }

    /** Logits, and the loss when {@code batch} has labels. Inference mode (no dropout). */
    public ClassifierOutput forward(Batch batch) {
        BertModelOutput out = bert.forward(batch);
        int b = batch.batchSize(), h = bert.config().hiddenSize(), n = head3.out();
        float[] logits = new float[b * n];
        float loss = bert.headInference(logits, (be, host) -> {
            Buf f = features(be, be.upload(out.lastHiddenState().data()), be.upload(out.poolerOutput().data()), batch, be.floats(b * h));
            Buf mid = be.floats(b * head0.out()), l = be.resultBuffer(host);
            be.linear(f, b, head0, mid, false);
            be.activation("relu", mid, b * head0.out());
            be.linear(mid, b, head3, l, false);
            float lossValue = batch.labels() == null ? Float.NaN : be.crossEntropy(l, b, n, batch.labels(), null);
            be.download(l, host);
            return lossValue;
        });
        return new ClassifierOutput(new Tensor(logits, b, n), loss);
    }
}
