package dev.bertj.cli;

import dev.bertj.api.Classification;
import dev.bertj.api.TextClassifier;
import dev.bertj.io.Json;

import java.io.BufferedReader;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code ./bertj classify}: a trained classifier's label and class probabilities per input line, through {@link TextClassifier}. */
final class ClassifyCommand implements Command {
    /** Lines per call: enough for length-sorted batches to pay, few enough to stream. */
    private static final int CHUNK = 256;

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
                In Java: dev.bertj.api.TextClassifier.
                """;
    }

    @Override
    public int run(String[] argv, BufferedReader in, PrintStream out, PrintStream err) throws Exception {
        Args a = new Args(name(), argv, Args.withDevice(Set.of("model", "max-length")), Set.of());
        var device = a.device();
        var dir = ModelCache.resolve(a.require("model"));
        TextClassifier.Builder builder = TextClassifier.builder(dir.toString()).device(device);
        if (a.has("max-length")) builder.maxLength(a.intValue("max-length", 0, 2));
        try (TextClassifier classifier = builder.build()) {
            InputBatches.forEachTexts(in, CHUNK, (texts, pairs) -> {
                List<Classification> answers = classifier.classify(texts, pairs);
                for (Classification c : answers) {
                    Map<String, Object> scores = new LinkedHashMap<>();
                    c.probabilities().forEach((label, p) -> scores.put(label, (double) p));
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("label", c.label());
                    row.put("scores", scores);
                    out.println(Json.write(row));
                }
            });
        }
        out.flush();
        return 0;
    }
}
