package dev.bertj.train;

import dev.bertj.backend.Backend;
import dev.bertj.backend.Device;
import dev.bertj.io.AtomicFiles;
import dev.bertj.model.TrainMode;
import dev.bertj.nn.Gradients;
import dev.bertj.tensor.Tensor;
import dev.bertj.tokenizer.Batch;
import dev.bertj.tokenizer.BertTokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * What the {@link Trainer} trains and saves: a classification head on BERT ({@link TaskModel}) or
 * the masked-LM head ({@link MaskedLmTaskModel}). The two differ in their batches (row labels or
 * masked tokens) and their metrics; the Trainer's loop, optimizer, schedule and checkpoints are the
 * same for both.
 */
public sealed interface TrainableModel permits TaskModel, MaskedLmTaskModel {
    /**
     * One training forward and backward: gradients (checkpoint names) accumulate into {@code g}.
     *
     * @return the batch's mean loss
     */
    float trainLoss(Batch batch, TrainMode mode, Gradients g);

    /** The trainable weights by checkpoint name, in the order the optimizer updates them. */
    Map<String, Tensor> parameters();

    /** Moves the model to {@code device} (PyTorch's {@code model.to}). */
    void to(Device device);

    /** The backend the model runs on (gradients and the optimizer live there too). */
    Backend backend();

    /** config.json's {@code architectures} entry this model is saved with (e.g. {@code BertForMaskedLM}). */
    String architecture();

    /**
     * Writes the model's checkpoint files (model.safetensors, config.json, tokenizer files) into
     * {@code dir}, an existing empty directory, without atomicity: {@link #save} and the Trainer's
     * checkpoints wrap it in one atomic directory write.
     *
     * @param tokenizerJson the tokenizer.json {@code tokenizer} was loaded from, copied in; null if it had none
     */
    void writeFiles(Path dir, BertTokenizer tokenizer, Path tokenizerJson) throws IOException;

    /** Saves the model as a checkpoint directory, atomically ({@link AtomicFiles#writeDirectory}). */
    default void save(Path dir, BertTokenizer tokenizer, Path tokenizerJson) throws IOException {
        AtomicFiles.writeDirectory(dir, tmp -> writeFiles(tmp, tokenizer, tokenizerJson));
    }
}
