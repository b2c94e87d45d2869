package dev.bertj.api;

import dev.bertj.backend.Device;
import dev.bertj.model.BertForMaskedLM;
import dev.bertj.model.MaskedLmOutput;
import dev.bertj.tokenizer.Batch;
import dev.bertj.tokenizer.BertTokenizer;
import dev.bertj.tokenizer.EncodeOptions;
import dev.bertj.tokenizer.Encoding;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Hugging Face's fill-mask pipeline on a model with BERT's masked-LM head ({@code bert-base-uncased}):
 * <pre>{@code
 * try (FillMask fill = FillMask.load("bert-base-uncased")) {
 *     List<FillMaskPrediction> best = fill.fill("the capital of france is [MASK].").getFirst();  // paris, ...
 * }
 * }</pre>
 * Texts are truncated at the model's maximum. Thread-safe; {@link #close()} frees the model's memory.
 */
public final class FillMask implements AutoCloseable {
    /** Predictions per mask unless a call says otherwise, as HF's pipeline. */
    public static final int DEFAULT_TOP_K = 5;

    private final BertForMaskedLM model;
    private final BertTokenizer tokenizer;
    private final EncodeOptions options;
    private final int batchSize;

    private FillMask(BertForMaskedLM model, BertTokenizer tokenizer, int maxLength, int batchSize) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.options = EncodeOptions.builder().truncation(EncodeOptions.Truncation.LONGEST_FIRST).maxLength(maxLength).build();
        this.batchSize = batchSize;
    }

    /** The masked-LM model in a directory, or named ({@code bert-base-uncased}). */
    public static FillMask load(String nameOrPath) throws IOException {
        Path dir = ModelResolver.resolve(Objects.requireNonNull(nameOrPath, "FillMask.load: nameOrPath"));
        BertForMaskedLM model = BertForMaskedLM.fromPretrained(dir);
        try {
            return of(model, BertTokenizer.fromPretrained(dir));
        } catch (RuntimeException | IOException e) {
            model.close();
            throw e;
        }
    }

    /** A fill-mask pipeline over a loaded model and its tokenizer; {@link #close()} closes the model. */
    public static FillMask of(BertForMaskedLM model, BertTokenizer tokenizer) {
        Objects.requireNonNull(model, "FillMask.of: model");
        Objects.requireNonNull(tokenizer, "FillMask.of: tokenizer");
        return of(model, tokenizer, Math.min(tokenizer.modelMaxLength(), model.config().maxPositionEmbeddings()));
    }

    /** {@link #of(BertForMaskedLM, BertTokenizer)}, truncating texts at {@code maxLength} tokens (special tokens included). */
    public static FillMask of(BertForMaskedLM model, BertTokenizer tokenizer, int maxLength) {
        Objects.requireNonNull(model, "FillMask.of: model");
        Objects.requireNonNull(tokenizer, "FillMask.of: tokenizer");
        int maxPos = model.config().maxPositionEmbeddings();
        if (maxLength < 2 || maxLength > maxPos) {
            throw new IllegalArgumentException("FillMask.of: maxLength must be in [2, " + maxPos + "] (max_position_embeddings), got " + maxLength);
        }
        return new FillMask(model, tokenizer, maxLength, 16);
    }

    /** Moves the model to {@code device} and returns this. */
    public FillMask to(Device device) {
        model.to(device);
        return this;
    }

    /** A text with no mask to fill (perhaps truncated away); {@link #index()} says which. */
    public static final class NoMaskException extends IllegalArgumentException {
        private final int index;

        NoMaskException(int index, String message) {
            super(message);
            this.index = index;
        }

        /** The index of the text in the call's list. */
        public int index() {
            return index;
        }
    }

    /** The {@value #DEFAULT_TOP_K} best tokens for each mask of {@code text}, one list per mask in order. */
    public List<List<FillMaskPrediction>> fill(String text) {
        return fill(text, DEFAULT_TOP_K);
    }

    /** The {@code topK} best tokens for each mask of {@code text}, one list per mask in order. */
    public List<List<FillMaskPrediction>> fill(String text, int topK) {
        return fill(List.of(Objects.requireNonNull(text, "FillMask.fill: text is null")), null, topK).getFirst();
    }

    /**
     * For each text (paired with {@code pairs.get(i)} when {@code pairs} is not null), for each of its
     * masks in order, the {@code topK} best tokens, best first.
     *
     * @throws NoMaskException when a text has no mask token
     */
    public List<List<List<FillMaskPrediction>>> fill(List<String> texts, List<String> pairs, int topK) {
        Objects.requireNonNull(texts, "FillMask.fill: texts is null");
        if (topK < 1) throw new IllegalArgumentException("FillMask.fill: topK must be positive, got " + topK);
        if (model.bert().isClosed()) throw new IllegalStateException("FillMask.fill: the model was closed");
        int k = Math.min(topK, model.vocabSize()), maskId = tokenizer.specialTokens().maskId();
        List<Encoding> enc = tokenizer.encodeBatch(texts, pairs, options);
        List<int[]> ids = new ArrayList<>(), types = new ArrayList<>();
        for (int i = 0; i < enc.size(); i++) {
            Encoding e = enc.get(i);
            if (Arrays.stream(e.ids()).noneMatch(id -> id == maskId)) {
                throw new NoMaskException(i, "FillMask.fill: texts[" + i + "] has no " + tokenizer.specialTokens().mask() + " token to fill"
                        + (e.length() >= options.maxLength() ? " (it may have been truncated at " + options.maxLength() + " tokens)" : ""));
            }
            ids.add(e.ids());
            types.add(e.typeIds());
        }
        List<List<List<FillMaskPrediction>>> out = new ArrayList<>(java.util.Collections.nCopies(texts.size(), null));
        LengthSortedBatches.run(ids, types, tokenizer.specialTokens().padId(), batchSize, Integer.MAX_VALUE, (b, rows) -> {
            int s = b.seqLen();
            List<Integer> positions = new ArrayList<>();
            int[] masksPerRow = new int[rows.length];
            for (int r = 0; r < rows.length; r++) {
                for (int t = 0; t < s; t++) {
                    if (b.attentionMask()[r * s + t] == 1 && b.inputIds()[r * s + t] == maskId) {
                        positions.add(r * s + t);
                        masksPerRow[r]++;
                    }
                }
            }
            MaskedLmOutput o = model.logitsAt(b, positions.stream().mapToInt(Integer::intValue).toArray());
            float[] logits = o.logits().data();
            int v = model.vocabSize(), at = 0;
            for (int r = 0; r < rows.length; r++) {
                List<List<FillMaskPrediction>> perMask = new ArrayList<>();
                int[] rowIds = Arrays.copyOfRange(b.inputIds(), r * s, (r + 1) * s);
                for (int m = 0; m < masksPerRow[r]; m++, at++) {
                    perMask.add(predictions(rowIds, b.attentionMask(), r * s, o.positions()[at] - r * s, logits, at * v, v, k, masksPerRow[r] == 1));
                }
                out.set(rows[r], List.copyOf(perMask));
            }
        });
        return java.util.Collections.unmodifiableList(out);
    }

    /** HF's postprocess for one mask: softmax over the vocabulary, the top k, each with the text it would give. */
    private List<FillMaskPrediction> predictions(int[] rowIds, int[] mask, int rowStart, int at, float[] logits, int off, int v,
                                                 int topK, boolean single) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < v; i++) max = Math.max(max, logits[off + i]);
        double sum = 0;
        for (int i = 0; i < v; i++) sum += Math.exp(logits[off + i] - max);
        Integer[] order = new Integer[v];
        for (int i = 0; i < v; i++) order[i] = i;
        // Highest logit first; ties by id, as torch.topk returns the lower index first on CPU.
        Arrays.sort(order, (x, y) -> logits[off + x] != logits[off + y] ? Float.compare(logits[off + y], logits[off + x]) : Integer.compare(x, y));
        List<FillMaskPrediction> out = new ArrayList<>(topK);
        for (int k = 0; k < topK; k++) {
            int id = order[k];
            int[] ids = rowIds.clone();
            ids[at] = id;
            // HF drops padding, then decodes; with several masks it keeps special tokens so the other masks show.
            int real = 0;
            for (int t = 0; t < ids.length; t++) if (mask[rowStart + t] == 1) ids[real++] = ids[t];
            out.add(new FillMaskPrediction(Math.exp(logits[off + id] - max) / sum, id, tokenizer.decode(id),
                    tokenizer.decode(Arrays.copyOf(ids, real), single)));
        }
        return List.copyOf(out);
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
}
