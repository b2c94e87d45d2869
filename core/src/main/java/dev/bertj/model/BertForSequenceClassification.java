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
 * HF's {@code BertForSequenceClassification}: {@code classifier(dropout(pooler_output))}, with
 * cross-entropy when labels are given. Checkpoint names are {@code bert.*} and
 * {@code classifier.weight/bias}; labels map to names through the config's id2label.
 */
public final class BertForSequenceClassification {
    final BertModel bert;
    final Linear classifier;
    private final int numLabels;

    BertForSequenceClassification(BertModel bert, Linear classifier) {
        this.bert = bert;
        this.classifier = classifier;
        this.numLabels = classifier.out();
    }

    /**
     * Loads a checkpoint directory; a BertModel-only checkpoint gets a new, seeded classifier (with
     * HF's warning). The label count comes from id2label, else {@code numLabelsIfUnset}.
     */
    public static BertForSequenceClassification fromPretrained(Path dir, int numLabelsIfUnset, long seed) throws IOException {
        BertConfig config = BertConfig.read(AtomicFiles.requireFile(dir.resolve("config.json"), "missing model file"));
        Path st = AtomicFiles.requireFile(dir.resolve("model.safetensors"), "missing model file");
        Map<String, Tensor> weights = BertModel.loadWeights(st, "bert.");
        return build(config, weights, st.toString(), numLabelsIfUnset, seed);
    }

    /** Builds from weights by HF name ({@code bert.} stripped); missing ones are initialised from {@code seed}. */
    public static BertForSequenceClassification of(BertConfig config, Map<String, Tensor> weights, int numLabelsIfUnset, long seed) {
        return build(config, weights, "the given weights", numLabelsIfUnset, seed);
    }

    private static BertForSequenceClassification build(BertConfig config, Map<String, Tensor> weights, String src, int numLabelsIfUnset, long seed) {
        int n = config.id2label().isEmpty() ? numLabelsIfUnset : config.id2label().size();
        if (n <= 0) throw new IllegalArgumentException("the number of labels is unknown: config.json has no id2label");
        WeightSource w = new WeightSource(weights, src, config.initializerRange(), seed);
        BertModel bert = new BertModel(config, w);
        WeightSource head = new WeightSource(weights, src, config.initializerRange(), seed + 1);
        Linear cls = new Linear(head.get("classifier.weight", WeightSource.Init.NORMAL, n, config.hiddenSize()),
                head.get("classifier.bias", WeightSource.Init.ZEROS, n));
        head.finish();
        return new BertForSequenceClassification(bert, cls);
    }

    /** The encoder. */
    public BertModel bert() {
        return bert;
    }

    /** Number of classes. */
    public int numLabels() {
        return numLabels;
    }

    /** Moves the model to {@code device} (see {@link BertModel#to}) and returns it. */
    public BertForSequenceClassification to(Device device) {
        bert.to(device);
        return this;
    }

    /** Moves the model onto this backend instance (see {@link BertModel#to(Backend)}) and returns it. */
    public BertForSequenceClassification to(Backend backend) {
        bert.to(backend);
        return this;
    }

    /** Logits, and the loss when {@code batch} has labels. Inference mode (no dropout). */
    public ClassifierOutput forward(Batch batch) {
        BertModelOutput out = bert.forward(batch);
        int b = batch.batchSize();
        float[] logits = new float[b * numLabels];
        float loss = bert.headInference(logits, (be, host) -> {
            Buf l = be.resultBuffer(host);
            be.linear(be.upload(out.poolerOutput().data()), b, classifier, l, false);
            float lossValue = batch.labels() == null ? Float.NaN : be.crossEntropy(l, b, numLabels, batch.labels(), null);
            be.download(l, host);
            return lossValue;
        });
        return new ClassifierOutput(new Tensor(logits, b, numLabels), loss);
    }

    /** Every weight by checkpoint name ({@code bert.*}, {@code classifier.*}), as HF saves this model. */
    public Map<String, Tensor> parameters() {
        Map<String, Tensor> m = new java.util.LinkedHashMap<>();
        bert.parameters().forEach((k, v) -> m.put("bert." + k, v));
        m.put("classifier.weight", classifier.weight());
        m.put("classifier.bias", classifier.bias());
        return m;
    }

    /**
     * One training forward and backward: logits and mean loss, with every parameter's gradient
     * (checkpoint names) accumulated into {@code g}.
     * <pre>
     * logits = classifier(dropout(pooler_output));  dlogits = CE'(logits, labels)
     * dpooled = dropout'(classifier'(dlogits));  then BertModel backward
     * </pre>
     */
    public ClassifierOutput trainStep(Batch batch, TrainMode mode, Gradients g) {
        return bert.trainWithHead(batch, mode, pass -> headStep(pass, batch, mode, g));
    }

    private ClassifierOutput headStep(BertModel.TrainPass pass, Batch batch, TrainMode mode, Gradients g) {
        Backend be = pass.backend;
        int b = batch.batchSize(), h = bert.config().hiddenSize();
        Buf pooled = pass.floats(b * h);
        be.copyRows(pass.pooled, 0, 0, pooled, 0, 0, 1, b * h, false);
        float p = bert.config().classifierDropout();
        Mask keep = mode.drop(be, pooled, b * h, p, TrainMode.CLASSIFIER);
        float[] logits = new float[b * numLabels];
        Buf l = pass.floats(b * numLabels), dLogits = pass.floats(b * numLabels);
        be.linear(pooled, b, classifier, l, false);
        float loss = be.crossEntropy(l, b, numLabels, batch.labels(), dLogits);
        Buf dPooled = pass.floats(b * h);
        classifier.backward(be, "classifier", pooled, dLogits, 0, numLabels, b, dPooled, false, g);
        if (keep != null) be.dropoutBackward(dPooled, b * h, p, keep);
        bert.backward(pass, null, dPooled, g.view("bert."));
        return new ClassifierOutput(new Tensor(be.download(l, logits), b, numLabels), loss);
    }

    /** The name of class {@code id} from id2label, else {@code LABEL_id} as HF names them. */
    public String labelName(int id) {
        return bert.config.id2label().getOrDefault(id, "LABEL_" + id);
    }
}
