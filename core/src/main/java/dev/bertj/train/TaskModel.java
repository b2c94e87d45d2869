package dev.bertj.train;

import dev.bertj.backend.Backend;
import dev.bertj.backend.Device;
import dev.bertj.model.ClassifierOutput;
import dev.bertj.model.SequenceClassifier;
import dev.bertj.model.TrainMode;
import dev.bertj.nn.Gradients;
import dev.bertj.tensor.Tensor;
import dev.bertj.tokenizer.Batch;
import dev.bertj.tokenizer.BertTokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/** A classifier the {@link Trainer} can train and save: either head on BERT. */
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

    /**
     * Saves the model as a checkpoint directory, atomically ({@link Checkpoint#save}).
     *
     * @param tokenizerJson the tokenizer.json {@code tokenizer} was loaded from, copied in; null if it had none
     */
    void save(Path dir, BertTokenizer tokenizer, Path tokenizerJson) throws IOException;

    /** Either classification head: HF's BertForSequenceClassification or the notebook's BertClassifier. */
    static TaskModel of(SequenceClassifier<?> m) {
        Map<String, Tensor> params = m.parameters();
        return new TaskModel() {
            public ClassifierOutput forward(Batch b) { return m.forward(b); }
            public ClassifierOutput trainStep(Batch b, TrainMode mode, Gradients g) { return m.trainStep(b, mode, g); }
            public Map<String, Tensor> parameters() { return params; }
            public int numLabels() { return m.numLabels(); }
            public Backend backend() { return m.backend(); }
            public void to(Device d) { m.to(d); }
            public void save(Path dir, BertTokenizer tok, Path tokenizerJson) throws IOException { Checkpoint.save(dir, m, tok, tokenizerJson); }
        };
    }
}
