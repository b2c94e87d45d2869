package dev.bertj.train;

import dev.bertj.backend.Backend;
import dev.bertj.backend.Device;
import dev.bertj.model.BertForMaskedLM;
import dev.bertj.model.MaskedLmOutput;
import dev.bertj.model.TrainMode;
import dev.bertj.nn.Gradients;
import dev.bertj.tensor.Tensor;
import dev.bertj.tokenizer.Batch;
import dev.bertj.tokenizer.BertTokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/**
 * {@link BertForMaskedLM} as the {@link Trainer} trains it (domain-adaptive masked-LM fine-tuning):
 * batches carry per-token labels made by {@link dev.bertj.tokenizer.DataCollatorForLanguageModeling}.
 * Its checkpoints are HF BertForMaskedLM directories ({@link Checkpoint#save(Path, BertForMaskedLM, BertTokenizer, Path)}).
 *
 * @param model the masked-LM model, trained in place
 */
public record MaskedLmTaskModel(BertForMaskedLM model) implements TrainableModel {
    /** Checks the model is present. */
    public MaskedLmTaskModel {
        Objects.requireNonNull(model, "model");
    }

    /** Wraps {@code model}. */
    public static MaskedLmTaskModel of(BertForMaskedLM model) {
        return new MaskedLmTaskModel(model);
    }

    /** Inference on per-token labels: logits at the labelled positions and their mean cross-entropy. */
    public MaskedLmOutput forward(Batch batch) {
        return model.forward(batch);
    }

    @Override
    public float trainLoss(Batch batch, TrainMode mode, Gradients g) {
        return model.trainStep(batch, mode, g).loss();
    }

    @Override
    public Map<String, Tensor> parameters() {
        return model.parameters();
    }

    @Override
    public void to(Device device) {
        model.to(device);
    }

    @Override
    public Backend backend() {
        return model.backend();
    }

    @Override
    public String architecture() {
        return Checkpoint.HeadKind.MASKED_LM.architecture();
    }

    @Override
    public void writeFiles(Path dir, BertTokenizer tokenizer, Path tokenizerJson) throws IOException {
        Checkpoint.writeFiles(dir, model, tokenizer, tokenizerJson);
    }
}
