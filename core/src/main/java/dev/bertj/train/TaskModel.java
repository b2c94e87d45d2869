package dev.bertj.train;

import dev.bertj.backend.Backend;
import dev.bertj.backend.Device;
import dev.bertj.model.BertForMaskedLM;
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

/**
 * A classifier the {@link Trainer} can train and save: either head on BERT (HF's
 * BertForSequenceClassification or the notebook's BertClassifier). Batches carry one label per row.
 */
public non-sealed interface TaskModel extends TrainableModel {
    /** Inference: logits, and the loss when the batch has labels. */
    ClassifierOutput forward(Batch batch);

    /** Training forward and backward: gradients (checkpoint names) accumulate into {@code g}. */
    ClassifierOutput trainStep(Batch batch, TrainMode mode, Gradients g);

    /** {@link #trainStep}'s loss. */
    @Override
    default float trainLoss(Batch batch, TrainMode mode, Gradients g) {
        return trainStep(batch, mode, g).loss();
    }

    /** Number of classes. */
    int numLabels();

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
            public String architecture() { return Checkpoint.architectureOf(m); }
            public void writeFiles(Path dir, BertTokenizer tok, Path tokenizerJson) throws IOException { Checkpoint.writeFiles(dir, m, tok, tokenizerJson); }
        };
    }

    /** The masked-LM head ({@link MaskedLmTaskModel#of}). */
    static MaskedLmTaskModel of(BertForMaskedLM m) {
        return MaskedLmTaskModel.of(m);
    }
}
