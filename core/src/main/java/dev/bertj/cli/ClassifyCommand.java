package dev.bertj.cli;

import dev.bertj.io.Json;
import dev.bertj.model.BertConfig;
import dev.bertj.tokenizer.BertTokenizer;
import dev.bertj.tokenizer.EncodeOptions;
import dev.bertj.train.Checkpoint;
import dev.bertj.train.TaskModel;

import java.io.BufferedReader;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** {@code ./bertj classify}: a trained classifier's label and class probabilities per input line. */
final class ClassifyCommand implements Command {
    private static final int CHUNK = 32;

    @Override
    public String name() {
        return "classify";
    }

    @Override
    public String summary() {
        return "classify JSON Lines texts with a trained checkpoint";
    }

    @Override
    public String help() {
        return """
                Usage: ./bertj classify --model DIR [--max-length N] [--device D]

                DIR is a checkpoint written by ./bertj train (or any HF BertForSequenceClassification
                directory with model.safetensors). Reads JSON Lines texts on stdin (a JSON string, or
                {"text": ..., "text_pair": ...}) and prints {"label": ..., "scores": {label: probability}}
                per line, label names from the config's id2label.
                --device cpu|cuda|cuda:N runs the model on that device (the GPU backend bertj-cuda; ./bertj
                adds it); --precision fp32|tf32|bf16 picks the GPU's matrix-product arithmetic (default fp32).
                """;
    }

    @Override
    public int run(String[] argv, BufferedReader in, PrintStream out, PrintStream err) throws Exception {
        Args a = new Args(name(), argv, Args.withDevice(Set.of("model", "max-length")), Set.of());
        var device = a.device();
        Path dir = ModelCache.resolve(a.require("model"));
        TaskModel model = TaskModel.of(Checkpoint.loadClassifierOfAnyKind(dir));
        model.to(device);
        BertConfig config = BertConfig.read(dir.resolve("config.json"));
        Map<Integer, String> names = config.id2label();
        BertTokenizer tok = BertTokenizer.fromPretrained(dir);
        int maxLength = a.intValue("max-length", Math.min(tok.modelMaxLength(), config.maxPositionEmbeddings()), 2);
        EncodeOptions opts = EncodeOptions.builder().truncation(EncodeOptions.Truncation.LONGEST_FIRST).maxLength(maxLength).build();
        int classes = model.numLabels();
        InputBatches.forEach(in, tok, opts, CHUNK, b -> {
            float[] probs = model.forward(b).probabilities();
            for (int r = 0; r < b.batchSize(); r++) {
                int best = 0;
                Map<String, Object> scores = new LinkedHashMap<>();
                for (int c = 0; c < classes; c++) {
                    if (probs[r * classes + c] > probs[r * classes + best]) best = c;
                    scores.put(names.getOrDefault(c, "LABEL_" + c), (double) probs[r * classes + c]);
                }
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("label", names.getOrDefault(best, "LABEL_" + best));
                row.put("scores", scores);
                out.println(Json.write(row));
            }
        });
        out.flush();
        return 0;
    }
}
