package dev.bertj.train;

import dev.bertj.io.AtomicFiles;
import dev.bertj.io.SafeTensors;
import dev.bertj.io.SafeTensorsWriter;
import dev.bertj.model.BertClassifier;
import dev.bertj.model.BertConfig;
import dev.bertj.model.BertForMaskedLM;
import dev.bertj.model.BertPreTrainedModel;
import dev.bertj.model.BertForSequenceClassification;
import dev.bertj.model.CustomHeadConfig;
import dev.bertj.model.SequenceClassifier;
import dev.bertj.tensor.Tensor;
import dev.bertj.tokenizer.BertTokenizer;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * Saves and loads fine-tuned checkpoints: a directory with {@code model.safetensors},
 * {@code config.json} (architectures, id2label, label2id) and the tokenizer files
 * ({@code vocab.txt}, {@code tokenizer_config.json}, and {@code tokenizer.json} when the source
 * had one).
 *
 * <p>Three kinds, told apart by config.json's {@code architectures} ({@link #headKind}):
 * <ul>
 *   <li>{@code BertForSequenceClassification}: exactly HF's names and shapes ({@code bert.*},
 *       {@code classifier.weight} [labels, hidden], {@code classifier.bias} [labels]), so
 *       transformers' {@code BertForSequenceClassification.from_pretrained} loads it.
 *   <li>{@code BertClassifier}, the notebook's custom head: the encoder under its BertModel names
 *       (no prefix), the head as {@code classification_head.{0,3}.{weight,bias}}, and the
 *       notebook's CustomConfig fields (ff_output_dim, n_classes, ff_dropout, cls_only,
 *       average_all, pooler) in config.json.
 *   <li>{@code BertForMaskedLM}: HF's names ({@code bert.*}, {@code cls.predictions.transform.*},
 *       {@code cls.predictions.bias}) written the way HF's safetensors checkpoints are: the decoder's
 *       weight and bias are tied to {@code bert.embeddings.word_embeddings.weight} and
 *       {@code cls.predictions.bias}, so HF drops {@code cls.predictions.decoder.*} on save and re-ties
 *       them on load. HF's BertForMaskedLM has no pooler; a pooler that came from the source
 *       checkpoint is kept (HF ignores it on load, a later classifier uses it), a newly initialised
 *       one is not written.
 * </ul>
 *
 * <p><b>Atomicity.</b> A save writes the whole checkpoint with {@link AtomicFiles#writeDirectory}, and
 * reads the tokenizer back from the temporary directory before it is swapped in: a failed or
 * interrupted save never leaves a partial checkpoint at {@code dir}, and the previous checkpoint
 * stays untouched until the new one is complete on disk. A save replaces {@code dir} whole and
 * refuses a directory that is neither empty nor a model directory.
 */
public final class Checkpoint {
    /** What head a model directory holds, from config.json's architectures. */
    public enum HeadKind {
        /** {@code BertForSequenceClassification}: load with {@link #loadSequenceClassification}. */
        SEQUENCE_CLASSIFICATION("BertForSequenceClassification"),
        /** {@code BertClassifier}: load with {@link #loadClassifier}. */
        CUSTOM("BertClassifier"),
        /** {@code BertForMaskedLM}: load with {@link #loadMaskedLm}; for a classifier, an encoder needing a new head. */
        MASKED_LM("BertForMaskedLM"),
        /** Anything else ({@code BertModel}, none): an encoder needing a new head. */
        NONE(null);

        private final String architecture;

        HeadKind(String architecture) {
            this.architecture = architecture;
        }

        /** The config.json architecture this kind is saved with; null for {@link #NONE}. */
        public String architecture() {
            return architecture;
        }
    }

    private static final Logger LOG = Logger.getLogger(Checkpoint.class.getName());

    private Checkpoint() { }

    /** Saves a sequence-classification checkpoint without tokenizer.json; see {@link #save(Path, BertForSequenceClassification, BertTokenizer, Path)}. */
    public static void save(Path dir, BertForSequenceClassification model, BertTokenizer tokenizer) throws IOException {
        save(dir, model, tokenizer, null);
    }

    /** Saves {@code model} without tokenizer.json; see {@link #save(Path, SequenceClassifier, BertTokenizer, Path)}. */
    public static void save(Path dir, SequenceClassifier<?> model, BertTokenizer tokenizer) throws IOException {
        save(dir, model, tokenizer, null);
    }

    /**
     * Saves {@code model} atomically: HF's {@code BertForSequenceClassification} layout, or a
     * {@code BertClassifier} checkpoint whose config.json gets all six CustomConfig fields
     * ({@link CustomHeadConfig#apply}).
     *
     * @param tokenizerJson the tokenizer.json {@code tokenizer} was loaded from, copied in; null if it had none
     * @throws IllegalArgumentException if id2label disagrees with the classifier, or tokenizer.json does not
     *     hold the tokenizer's vocabulary; {@code dir} is then unchanged
     */
    public static void save(Path dir, SequenceClassifier<?> model, BertTokenizer tokenizer, Path tokenizerJson) throws IOException {
        // The config is built (and id2label checked) before anything is written.
        BertConfig config = classifierConfig(model);
        AtomicFiles.writeDirectory(dir, tmp -> writeFiles(tmp, config, model.parameters(), tokenizer, tokenizerJson));
    }

    /** The config.json architecture {@code model} is saved with. */
    static String architectureOf(SequenceClassifier<?> model) {
        return switch (model) {
            case BertForSequenceClassification m -> HeadKind.SEQUENCE_CLASSIFICATION.architecture();
            case BertClassifier m -> HeadKind.CUSTOM.architecture();
        };
    }

    private static BertConfig classifierConfig(SequenceClassifier<?> model) {
        BertConfig config = withLabels(model.config(), model.numLabels());
        return switch (model) {
            case BertForSequenceClassification m -> config.with("architectures", List.of(HeadKind.SEQUENCE_CLASSIFICATION.architecture()));
            case BertClassifier m -> m.headConfig().apply(config).with("architectures", List.of(HeadKind.CUSTOM.architecture()));
        };
    }

    /**
     * Saves a masked-LM checkpoint atomically, as HF's {@code BertForMaskedLM.save_pretrained} with
     * safetensors (see the class comment for the tied decoder and the pooler).
     *
     * @param tokenizerJson the tokenizer.json {@code tokenizer} was loaded from, copied in; null if it had none
     */
    public static void save(Path dir, BertForMaskedLM model, BertTokenizer tokenizer, Path tokenizerJson) throws IOException {
        AtomicFiles.writeDirectory(dir, tmp -> writeFiles(tmp, model, tokenizer, tokenizerJson));
    }

    /**
     * Writes {@code model}'s checkpoint files (model.safetensors, config.json, tokenizer files) into
     * {@code dir}, an empty directory, one file at a time: for callers that make a larger directory
     * atomic themselves (a training checkpoint adds the optimizer and trainer state).
     */
    static void writeFiles(Path dir, BertPreTrainedModel<?> model, BertTokenizer tokenizer, Path tokenizerJson) throws IOException {
        switch (model) {
            case SequenceClassifier<?> m -> writeFiles(dir, classifierConfig(m), m.parameters(), tokenizer, tokenizerJson);
            case BertForMaskedLM m -> writeFiles(dir, m.config().with("architectures", List.of(HeadKind.MASKED_LM.architecture())),
                    maskedLmWeights(m), tokenizer, tokenizerJson);
        }
    }

    /** The weights HF's BertForMaskedLM saves: all but a newly initialised pooler (the tied decoder is not among them). */
    private static Map<String, Tensor> maskedLmWeights(BertForMaskedLM m) {
        Map<String, Tensor> out = new LinkedHashMap<>(m.parameters());
        if (!m.bert().hasPretrainedPooler()) out.keySet().removeIf(k -> k.startsWith("bert.pooler."));
        return out;
    }

    /**
     * Loads a {@code BertForMaskedLM} checkpoint (bertj's, HF's or {@code convert}'s) to predict or to
     * continue training. Strict: a weight missing from the file is an error (a pooler may be absent,
     * as in HF's, since masked-LM never uses it).
     *
     * @throws IllegalArgumentException if {@code dir} holds another kind, or lacks a weight
     */
    public static BertForMaskedLM loadMaskedLm(Path dir) throws IOException {
        requireKind(dir, HeadKind.MASKED_LM);
        BertForMaskedLM m = BertForMaskedLM.fromPretrained(dir);
        Set<String> needed = new java.util.TreeSet<>(m.parameters().keySet());
        needed.removeIf(k -> k.startsWith("bert.pooler."));
        requireComplete(dir, needed);
        return m;
    }

    /** The classifier in {@code dir}, whichever head it has ({@link #headKind}). */
    public static SequenceClassifier<?> loadClassifierOfAnyKind(Path dir) throws IOException {
        return switch (headKind(dir)) {
            case SEQUENCE_CLASSIFICATION -> loadSequenceClassification(dir);
            case CUSTOM -> loadClassifier(dir);
            case MASKED_LM, NONE -> throw new IllegalArgumentException(dir + " has no classification head (config.json architectures); train one with ./bertj train");
        };
    }

    /**
     * The head in {@code dir}, from config.json's {@code architectures}: the first entry bertj
     * recognises wins; none recognised (or no list) is {@link HeadKind#NONE}.
     */
    public static HeadKind headKind(Path dir) throws IOException {
        BertConfig config = BertConfig.read(AtomicFiles.requireFile(dir.resolve("config.json"), "missing model file"));
        for (Object a : config.architectures()) {
            for (HeadKind k : HeadKind.values()) if (k.architecture != null && k.architecture.equals(a)) return k;
        }
        return HeadKind.NONE;
    }

    /**
     * Loads a {@code BertForSequenceClassification} checkpoint (bertj's or HF's) to predict or to
     * continue training. Strict: a missing weight is an error, not a silently initialised one.
     *
     * @throws IllegalArgumentException if {@code dir} holds another kind, or lacks a weight
     */
    public static BertForSequenceClassification loadSequenceClassification(Path dir) throws IOException {
        requireKind(dir, HeadKind.SEQUENCE_CLASSIFICATION);
        BertForSequenceClassification m = BertForSequenceClassification.fromPretrained(dir, 0, 0);
        requireComplete(dir, m.parameters().keySet());
        return m;
    }

    /**
     * Loads a {@code BertClassifier} checkpoint to predict or to continue training. Strict, as
     * {@link #loadSequenceClassification}.
     */
    public static BertClassifier loadClassifier(Path dir) throws IOException {
        requireKind(dir, HeadKind.CUSTOM);
        BertClassifier m = BertClassifier.fromPretrained(dir, 0);
        requireComplete(dir, m.parameters().keySet());
        return m;
    }

    // ------------------------------------------------------------------------------------------

    private static void writeFiles(Path tmp, BertConfig config, Map<String, Tensor> params, BertTokenizer tokenizer, Path tokenizerJson)
            throws IOException {
        if (tokenizer.vocabSize() > config.vocabSize()) {
            throw new IllegalArgumentException("the tokenizer has " + tokenizer.vocabSize() + " tokens but the model's vocab_size is "
                    + config.vocabSize() + "; ids past it would have no embedding");
        }
        // HF's safetensors writer orders tensors by name (all are F32 here); the order carries no meaning.
        Map<String, Tensor> sorted = new TreeMap<>(params);
        SafeTensorsWriter.write(tmp.resolve("model.safetensors"), sorted, Map.of("format", "pt"));
        Files.writeString(tmp.resolve("config.json"), config.toJson() + "\n", StandardCharsets.UTF_8);
        tokenizer.saveVocabulary(tmp);
        Files.writeString(tmp.resolve("tokenizer_config.json"), tokenizer.tokenizerConfigJson(config.maxPositionEmbeddings()),
                StandardCharsets.UTF_8);
        if (tokenizerJson != null) Files.copy(tokenizerJson, tmp.resolve("tokenizer.json"));
        verifyTokenizer(tmp, tokenizer, tokenizerJson);
    }

    /**
     * Reads the tokenizer back from the new checkpoint, as a later load will (tokenizer.json
     * first), so a tokenizer.json from another model, or a vocabulary vocab.txt cannot hold,
     * fails the save instead of producing a checkpoint that tokenizes differently.
     */
    private static void verifyTokenizer(Path tmp, BertTokenizer want, Path tokenizerJson) throws IOException {
        BertTokenizer got = BertTokenizer.fromPretrained(tmp);
        String what = tokenizerJson != null ? tokenizerJson.toString() : "vocab.txt";
        if (!got.vocab().tokens().equals(want.vocab().tokens())) {
            throw new IllegalArgumentException(what + " does not hold the tokenizer's vocabulary (" + got.vocabSize()
                    + " vs " + want.vocabSize() + " tokens, or different tokens)");
        }
        if (!got.specialTokens().equals(want.specialTokens()) || !got.normalizer().equals(want.normalizer())) {
            throw new IllegalArgumentException(what + " reads back with other special tokens or normalizer settings: "
                    + got.specialTokens() + " " + got.normalizer() + " vs " + want.specialTokens() + " " + want.normalizer());
        }
    }

    /** The config with id2label/label2id for {@code n} classes: kept if consistent, else HF's LABEL_i. */
    private static BertConfig withLabels(BertConfig c, int n) {
        Map<Integer, String> id2label = c.id2label();
        if (id2label.isEmpty()) {
            List<String> names = new ArrayList<>();
            for (int i = 0; i < n; i++) names.add("LABEL_" + i);
            return c.withLabels(names);
        }
        List<String> names = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String name = id2label.get(i);
            if (name == null || id2label.size() != n) {
                throw new IllegalArgumentException("config.json's id2label " + id2label + " does not name classes 0.." + (n - 1)
                        + " of the " + n + "-class head; HF would build a " + id2label.size() + "-class head from it");
            }
            names.add(name);
        }
        // Rewrite both maps from id2label, so label2id cannot disagree with it.
        return c.withLabels(names);
    }

    private static void requireKind(Path dir, HeadKind want) throws IOException {
        HeadKind kind = headKind(dir);
        if (kind != want) {
            throw new IllegalArgumentException(dir + " holds " + (kind == HeadKind.NONE ? "a model without a classification head"
                    : "a " + kind.architecture() + " checkpoint") + " (config.json architectures), not a " + want.architecture() + " one");
        }
    }

    /** Every parameter must come from the file: a silently initialised head would predict noise. */
    private static void requireComplete(Path dir, Set<String> params) throws IOException {
        Set<String> names = new HashSet<>();
        try (SafeTensors st = SafeTensors.open(dir.resolve("model.safetensors"))) {
            for (String n : st.names()) {
                // Encoder names load with or without "bert." (as in HF and bertj's loaders), so either spelling counts.
                names.add(n);
                names.add("bert." + n);
                if (n.startsWith("bert.")) names.add(n.substring("bert.".length()));
            }
        }
        List<String> missing = params.stream().filter(p -> !names.contains(p)).sorted().toList();
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException(dir.resolve("model.safetensors") + " lacks " + missing.size() + " weight(s) of the model: " + missing);
        }
    }
}
