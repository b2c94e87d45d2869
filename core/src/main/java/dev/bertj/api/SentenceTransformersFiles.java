package dev.bertj.api;

import dev.bertj.io.AtomicFiles;
import dev.bertj.io.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * What a model directory says about sentence embeddings: sentence-transformers' {@code modules.json}
 * (which modules follow the transformer), {@code 1_Pooling/config.json} (the pooling mode) and
 * {@code sentence_bert_config.json} ({@code max_seq_length}); and the truncation in
 * {@code tokenizer.json}, which Hugging Face tokenizers (and so langchain4j) apply.
 */
final class SentenceTransformersFiles {
    /** The settings found; {@code maxSeqLength} is empty when the directory does not say. */
    record Settings(Pooling pooling, boolean normalize, OptionalInt maxSeqLength) { }

    private SentenceTransformersFiles() { }

    /**
     * The directory's settings; without {@code modules.json}, the pooling of {@code 1_Pooling/config.json}
     * if there is one, else mean, and no normalisation.
     */
    static Settings read(Path dir) throws IOException {
        Pooling pooling = Pooling.MEAN;
        boolean normalize = false;
        Path modules = dir.resolve("modules.json");
        if (Files.isRegularFile(modules)) {
            for (Object m : Json.asArray(Json.parse(Files.readString(modules), modules.toString()), modules.toString())) {
                Map<String, Object> mod = Json.asObject(m, modules + ": a module");
                String type = Json.asString(mod.get("type"), modules + ": type");
                String simple = type.substring(type.lastIndexOf('.') + 1);
                switch (simple) {
                    case "Transformer" -> { }
                    case "Pooling" -> pooling = pooling(dir.resolve(mod.get("path") == null ? "" : Json.asString(mod.get("path"), modules + ": path"))
                            .resolve("config.json"));
                    case "Normalize" -> normalize = true;
                    default -> throw new IllegalArgumentException(modules + " lists the module " + type
                            + ", which bertj does not run (it runs Transformer, Pooling and Normalize)");
                }
            }
        } else if (Files.isRegularFile(dir.resolve("1_Pooling").resolve("config.json"))) {
            // A directory copied without modules.json still says how it pools: TEI reads this file alone.
            pooling = pooling(dir.resolve("1_Pooling").resolve("config.json"));
        }
        OptionalInt max = OptionalInt.empty();
        Path sbert = dir.resolve("sentence_bert_config.json");
        if (Files.isRegularFile(sbert)) {
            Object v = Json.asObject(Json.parse(Files.readString(sbert), sbert.toString()), sbert.toString()).get("max_seq_length");
            if (v != null) max = OptionalInt.of((int) Json.asLong(v, sbert + ": max_seq_length"));
        }
        return new Settings(pooling, normalize, max);
    }

    static Pooling pooling(Path config) throws IOException {
        Map<String, Object> c = Json.asObject(Json.parse(Files.readString(AtomicFiles.requireFile(config, "missing sentence-transformers pooling config")),
                config.toString()), config.toString());
        if (c.get("pooling_mode") != null) { // newer files name the mode directly
            String mode = Json.asString(c.get("pooling_mode"), config + ": pooling_mode");
            return switch (mode) {
                case "mean" -> Pooling.MEAN;
                case "cls" -> Pooling.CLS;
                case "max" -> Pooling.MAX;
                default -> throw new IllegalArgumentException(config + ": pooling_mode " + mode + " is not one bertj runs (mean, cls, max)");
            };
        }
        List<String> on = new ArrayList<>();
        for (var e : c.entrySet()) {
            if (e.getKey().startsWith("pooling_mode_") && Boolean.TRUE.equals(e.getValue())) on.add(e.getKey());
        }
        if (on.size() != 1) {
            throw new IllegalArgumentException(config + ": bertj runs exactly one pooling mode (pooling_mode_mean_tokens, pooling_mode_cls_token"
                    + " or pooling_mode_max_tokens), the file turns on " + (on.isEmpty() ? "none" : String.join(", ", on)));
        }
        return switch (on.getFirst()) {
            case "pooling_mode_mean_tokens" -> Pooling.MEAN;
            case "pooling_mode_cls_token" -> Pooling.CLS;
            case "pooling_mode_max_tokens" -> Pooling.MAX;
            default -> throw new IllegalArgumentException(config + ": " + on.getFirst() + " is not a pooling mode bertj runs (mean, cls, max)");
        };
    }

    /** {@code truncation.max_length} of the directory's {@code tokenizer.json}, if it truncates. */
    static OptionalInt tokenizerTruncation(Path dir) throws IOException {
        Path tj = dir.resolve("tokenizer.json");
        if (!Files.isRegularFile(tj)) return OptionalInt.empty();
        Object t = Json.asObject(Json.parse(Files.readString(tj), tj.toString()), tj.toString()).get("truncation");
        if (t == null) return OptionalInt.empty();
        Object max = Json.asObject(t, tj + ": truncation").get("max_length");
        return max == null ? OptionalInt.empty() : OptionalInt.of((int) Json.asLong(max, tj + ": truncation.max_length"));
    }

    /**
     * all-MiniLM-L6-v2's sentence-transformers files as its Hugging Face repository has them (mean
     * pooling, then Normalize; max_seq_length 256), written into the converted default model.
     */
    static void writeMiniLmIfMissing(Path dir) throws IOException {
        if (Files.isRegularFile(dir.resolve("modules.json"))) return;
        Files.createDirectories(dir.resolve("1_Pooling"));
        AtomicFiles.writeString(dir.resolve("1_Pooling").resolve("config.json"), """
                {
                  "word_embedding_dimension": 384,
                  "pooling_mode_cls_token": false,
                  "pooling_mode_mean_tokens": true,
                  "pooling_mode_max_tokens": false,
                  "pooling_mode_mean_sqrt_len_tokens": false
                }
                """);
        AtomicFiles.writeString(dir.resolve("sentence_bert_config.json"), """
                {
                  "max_seq_length": 256,
                  "do_lower_case": false
                }
                """);
        AtomicFiles.writeString(dir.resolve("modules.json"), """
                [
                  {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                  {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
                  {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}
                ]
                """); // last: it marks the set complete
    }
}
