package dev.bertj.model;

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
 * HF's {@code BertForSequenceClassification}: {@code classifier(dropout(pooler_output))}, with
 * cross-entropy when labels are given. Checkpoint names are {@code bert.*} and
 * {@code classifier.weight/bias}; labels map to names through the config's id2label.
 */
public final class BertForSequenceClassification extends SequenceClassifier<BertForSequenceClassification> {
    final Linear classifier;

    BertForSequenceClassification(BertModel bert, Linear classifier) {
        super(bert);
        this.classifier = classifier;
        bert.usingPooler();
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

    @Override
    public int numLabels() {
        return classifier.out();
    }

    /** Every weight by checkpoint name ({@code bert.*}, {@code classifier.*}), as HF saves this model. */
    @Override
    public Map<String, Tensor> parameters() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        bert.parameters().forEach((k, v) -> m.put("bert." + k, v));
        m.put("classifier.weight", classifier.weight());
        m.put("classifier.bias", classifier.bias());
        return m;
    }

    @Override
    void logits(Backend be, BertModelOutput out, Batch batch, Buf logits) {
        be.linear(be.upload(out.poolerOutput().data()), batch.batchSize(), classifier, logits, null);
    }

    /**
     * <pre>
     * logits = classifier(dropout(pooler_output));  dlogits = CE'(logits, labels)
     * dpooled = dropout'(classifier'(dlogits));  then BertModel backward
     * </pre>
     */
    @Override
    ClassifierOutput headStep(BertModel.TrainPass pass, Batch batch, TrainMode mode, Gradients g) {
        Backend be = pass.backend;
        int b = batch.batchSize(), h = bert.config().hiddenSize(), n = numLabels();
        Buf pooled = pass.floats(b * h);
        be.copy(pass.pooled, pooled, b * h);
        float p = bert.config().classifierDropout();
        Mask keep = mode.drop(be, pooled, b * h, p, TrainMode.CLASSIFIER);
        Buf l = pass.floats(b * n), dLogits = pass.floats(b * n);
        be.linear(pooled, b, classifier, l, null);
        float loss = be.crossEntropy(l, b, n, batch.labels(), dLogits);
        Buf dPooled = pass.floats(b * h);
        classifier.backward(be, "classifier", pooled, dLogits, 0, n, b, dPooled, false, g);
        if (keep != null) be.dropoutBackward(dPooled, b * h, p, keep);
        bert.backward(pass, null, dPooled, g.view("bert."));
        return new ClassifierOutput(new Tensor(be.download(l, new float[b * n]), b, n), loss);
    }
}
