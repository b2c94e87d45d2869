package dev.bertj.train;

import dev.bertj.backend.Backend;
import dev.bertj.backend.Device;
import dev.bertj.model.BertClassifier;
import dev.bertj.model.BertForSequenceClassification;
import dev.bertj.model.ClassifierOutput;
import dev.bertj.model.TrainMode;
import dev.bertj.nn.Gradients;
import dev.bertj.tensor.Tensor;
import dev.bertj.tokenizer.Batch;

import java.util.Map;

/** A classifier the {@link Trainer} can train: either head on BERT. */
public interface TaskModel {
    /** Inference: logits, and the loss when the batch has labels. */
    ClassifierOutput forward(Batch batch);

    /** Training forward and backward: gradients (checkpoint names) accumulate into {@code g}. */
    ClassifierOutput trainStep(Batch batch, TrainMode mode, Gradients g);

    /** The trainable weights by checkpoint name. */
    Map<String, Tensor> parameters();

    /** Number of classes. */
    int numLabels();

    /** Moves the model to {@code device} (PyTorch's {@code model.to}). */
    void to(Device device);

    /** The backend the model runs on (gradients and the optimizer live there too). */
    Backend backend();

    /** HF's BertForSequenceClassification. */
    static TaskModel of(BertForSequenceClassification m) {
        return new TaskModel() {
            public ClassifierOutput forward(Batch b) { return m.forward(b); }
            public ClassifierOutput trainStep(Batch b, TrainMode mode, Gradients g) { return m.trainStep(b, mode, g); }
            public Map<String, Tensor> parameters() { return m.parameters(); }
            public int numLabels() { return m.numLabels(); }
            public Backend backend() { return m.bert().backend(); }
            public void to(Device d) { m.to(d); }
        };
    }

    /** The notebook's custom head. */
    static TaskModel of(BertClassifier m) {
        Map<String, Tensor> params = m.parameters();
        int n = params.get("classification_head.3.bias").size();
        return new TaskModel() {
            public ClassifierOutput forward(Batch b) { return m.forward(b); }
            public ClassifierOutput trainStep(Batch b, TrainMode mode, Gradients g) { return m.trainStep(b, mode, g); }
            public Map<String, Tensor> parameters() { return params; }
            public int numLabels() { return n; }
            public Backend backend() { return m.bert().backend(); }
            public void to(Device d) { m.to(d); }
        };
    }
}
