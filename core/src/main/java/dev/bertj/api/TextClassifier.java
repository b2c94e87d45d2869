package dev.bertj.api;

import dev.bertj.backend.Device;
import dev.bertj.model.SequenceClassifier;
import dev.bertj.tokenizer.BertTokenizer;
import dev.bertj.tokenizer.EncodeOptions;
import dev.bertj.tokenizer.Encoding;
import dev.bertj.train.Checkpoint;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Labels with probabilities from a fine-tuned classifier: a checkpoint written by {@code ./bertj train}
 * or any Hugging Face {@code BertForSequenceClassification} directory.
 * <pre>{@code
 * try (TextClassifier spam = TextClassifier.load("spam-model/")) {
 *     Classification c = spam.classify("WIN a FREE prize now!!!");   // c.label(), c.probability()
 * }
 * }</pre>
 * Texts (and pairs) are truncated at the model's maximum, run in length-sorted batches, and the
 * answers come back in order. Thread-safe; {@link #close()} frees the model's memory.
 */
public final class TextClassifier implements AutoCloseable {
    private final SequenceClassifier<?> model;
    private final BertTokenizer tokenizer;
    private final EncodeOptions options;
    private final int batchSize;

    private TextClassifier(SequenceClassifier<?> model, BertTokenizer tokenizer, int maxLength, int batchSize) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.options = EncodeOptions.builder().truncation(EncodeOptions.Truncation.LONGEST_FIRST).maxLength(maxLength).build();
        this.batchSize = batchSize;
    }

    /** The classifier in a model directory (a name is resolved by {@link ModelResolver}). */
    public static TextClassifier load(String nameOrPath) throws IOException {
        return builder(nameOrPath).build();
    }

    /** A builder for a model name or directory. */
    public static Builder builder(String nameOrPath) {
        return new Builder(Objects.requireNonNull(nameOrPath, "TextClassifier.builder: nameOrPath"));
    }

    /** The label and probabilities of one text. */
    public Classification classify(String text) {
        return classify(List.of(Objects.requireNonNull(text, "TextClassifier.classify: text is null")), null).getFirst();
    }

    /** One answer per text, in order. */
    public List<Classification> classify(List<String> texts) {
        return classify(texts, null);
    }

    /**
     * One answer per text, each text paired with {@code pairs.get(i)} (sentence-pair tasks).
     *
     * @param pairs the second texts, or null; an element may be null for a text without a pair
     */
    public List<Classification> classify(List<String> texts, List<String> pairs) {
        Objects.requireNonNull(texts, "TextClassifier.classify: texts is null");
        if (pairs != null && pairs.size() != texts.size()) {
            throw new IllegalArgumentException("TextClassifier.classify: texts has " + texts.size() + " elements but pairs has " + pairs.size());
        }
        for (int i = 0; i < texts.size(); i++) {
            if (texts.get(i) == null) throw new IllegalArgumentException("TextClassifier.classify: texts[" + i + "] is null");
        }
        if (model.bert().isClosed()) throw new IllegalStateException("TextClassifier.classify: the classifier was closed");
        List<Encoding> enc = tokenizer.encodeBatch(texts, pairs, options);
        List<int[]> ids = new ArrayList<>(enc.size()), types = new ArrayList<>(enc.size());
        for (Encoding e : enc) {
            ids.add(e.ids());
            types.add(e.typeIds());
        }
        Classification[] out = new Classification[texts.size()];
        int k = model.numLabels();
        LengthSortedBatches.run(ids, types, tokenizer.specialTokens().padId(), batchSize, Integer.MAX_VALUE, (b, rows) -> {
            float[] probs = model.forward(b).probabilities();
            for (int r = 0; r < rows.length; r++) {
                int best = 0;
                Map<String, Float> all = new LinkedHashMap<>();
                for (int c = 0; c < k; c++) {
                    if (probs[r * k + c] > probs[r * k + best]) best = c;
                    all.put(model.labelName(c), probs[r * k + c]);
                }
                out[rows[r]] = new Classification(model.labelName(best), probs[r * k + best], all);
            }
        });
        return List.of(out);
    }

    /** The labels, in id order. */
    public List<String> labels() {
        List<String> l = new ArrayList<>();
        for (int c = 0; c < model.numLabels(); c++) l.add(model.labelName(c));
        return l;
    }

    /** The tokenizer. */
    public BertTokenizer tokenizer() {
        return tokenizer;
    }

    /** Frees the model's memory; later calls fail. */
    @Override
    public void close() {
        model.close();
    }

    /** Settings of a {@link TextClassifier}. */
    public static final class Builder {
        private final String name;
        private int maxLength;
        private int batchSize = 32;
        private Device device;

        private Builder(String name) {
            this.name = name;
        }

        /** Truncate to this many tokens, special tokens included (default: the model's maximum). */
        public Builder maxLength(int maxLength) {
            if (maxLength < 2) throw new IllegalArgumentException("TextClassifier.Builder.maxLength: must be at least 2, got " + maxLength);
            this.maxLength = maxLength;
            return this;
        }

        /** Texts per forward pass (default 32). */
        public Builder batchSize(int batchSize) {
            if (batchSize < 1) throw new IllegalArgumentException("TextClassifier.Builder.batchSize: must be positive, got " + batchSize);
            this.batchSize = batchSize;
            return this;
        }

        /** The device to run on (default the CPU). */
        public Builder device(Device device) {
            this.device = Objects.requireNonNull(device, "TextClassifier.Builder.device: device is null");
            return this;
        }

        /** Resolves and loads the classifier. */
        public TextClassifier build() throws IOException {
            Path dir = ModelResolver.resolve(name);
            SequenceClassifier<?> model = Checkpoint.loadClassifierOfAnyKind(dir);
            try {
                BertTokenizer tok = BertTokenizer.fromPretrained(dir);
                int maxPos = model.config().maxPositionEmbeddings();
                int len = maxLength > 0 ? maxLength : Math.min(tok.modelMaxLength(), maxPos);
                if (len > maxPos) {
                    throw new IllegalArgumentException("TextClassifier.Builder.maxLength: " + len + " is more than the model's max_position_embeddings " + maxPos);
                }
                if (device != null) model.to(device);
                return new TextClassifier(model, tok, len, batchSize);
            } catch (RuntimeException | IOException e) {
                model.close();
                throw e;
            }
        }
    }
}
