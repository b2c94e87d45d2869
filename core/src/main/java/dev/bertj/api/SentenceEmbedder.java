package dev.bertj.api;

import dev.bertj.backend.Device;
import dev.bertj.model.BertConfig;
import dev.bertj.model.BertModel;
import dev.bertj.model.SentenceEmbeddings;
import dev.bertj.tokenizer.BertTokenizer;
import dev.bertj.tokenizer.EncodeOptions;
import dev.bertj.tokenizer.Encoding;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * Sentence embeddings from a BERT model in three lines:
 * <pre>{@code
 * try (SentenceEmbedder embedder = SentenceEmbedder.load("default")) {
 *     float[][] vectors = embedder.embed(List.of("first text", "second text"));
 * }
 * }</pre>
 *
 * <ul>
 *   <li><b>Model</b>: a name or path as {@link ModelResolver} resolves it ({@code default} is
 *       all-MiniLM-L6-v2).</li>
 *   <li><b>Pooling and normalisation</b> come from the model's sentence-transformers files
 *       ({@code modules.json}, {@code 1_Pooling/config.json}) when it has them, else mean pooling
 *       without normalisation; the builder overrides either.</li>
 *   <li><b>Truncation</b> is on: texts longer than {@code sentence_bert_config.json}'s
 *       {@code max_seq_length}, else the model's maximum, are cut there (special tokens included).
 *       {@link Builder#partition(int)} embeds long texts whole instead.</li>
 *   <li><b>Batching</b>: texts are sorted by length and run in batches padded to their own longest,
 *       each forward pass on all cores; the vectors come back in the order of the texts.</li>
 * </ul>
 *
 * One instance serves any number of threads at once. {@link #close()} frees the model's memory.
 */
public final class SentenceEmbedder implements AutoCloseable {
    private final BertTokenizer tokenizer;
    private final BertModel model;
    private final Pooling pooling;
    private final boolean normalize;
    private final int maxLength;
    private final int segmentTokens;
    private final int batchSize;
    private final int maxBatchTokens;
    private final Path directory;

    private SentenceEmbedder(Builder b, Path dir, BertTokenizer tokenizer, BertModel model, Pooling pooling, boolean normalize, int maxLength) {
        this.tokenizer = tokenizer;
        this.model = model;
        this.pooling = pooling;
        this.normalize = normalize;
        this.maxLength = maxLength;
        this.segmentTokens = b.segmentTokens;
        this.batchSize = b.batchSize;
        this.maxBatchTokens = b.maxBatchTokens;
        this.directory = dir;
    }

    /** The embedder for a model name or directory, with the model's own settings. */
    public static SentenceEmbedder load(String nameOrPath) throws IOException {
        return builder(nameOrPath).build();
    }

    /** A builder for a model name ({@code default}, {@code bert-base-uncased}) or directory. */
    public static Builder builder(String nameOrPath) {
        return new Builder(Objects.requireNonNull(nameOrPath, "SentenceEmbedder.builder: nameOrPath"), null);
    }

    /** A builder for a model directory. */
    public static Builder builder(Path modelDir) {
        return new Builder(null, Objects.requireNonNull(modelDir, "SentenceEmbedder.builder: modelDir"));
    }

    /** The vectors of several texts and how many tokens the model read for each. */
    public record Embeddings(float[][] vectors, int[] tokenCounts) {
        /** Total tokens read (special tokens included). */
        public long totalTokens() {
            long n = 0;
            for (int c : tokenCounts) n += c;
            return n;
        }
    }

    /** The embedding of one text. */
    public float[] embed(String text) {
        return embedWithTokenCounts(List.of(Objects.requireNonNull(text, "SentenceEmbedder.embed: text is null"))).vectors()[0];
    }

    /** The embeddings of {@code texts}, in order: {@code [texts.size()][dimension()]}. */
    public float[][] embed(List<String> texts) {
        return embedWithTokenCounts(texts).vectors();
    }

    /** {@link #embed(List)}, with the number of tokens the model read for each text. */
    public Embeddings embedWithTokenCounts(List<String> texts) {
        return embedWithTokenCounts(texts, null);
    }

    /**
     * Embeddings of text pairs, each read as one sequence {@code [CLS] text [SEP] pair [SEP]} (the
     * input a cross-encoder sees); truncation {@code longest_first}. Not with {@link Builder#partition}.
     *
     * @param pairs the second texts, or null; an element may be null for a text without a pair
     */
    public float[][] embed(List<String> texts, List<String> pairs) {
        return embedWithTokenCounts(texts, pairs).vectors();
    }

    private Embeddings embedWithTokenCounts(List<String> texts, List<String> pairs) {
        Objects.requireNonNull(texts, "SentenceEmbedder.embed: texts is null");
        for (int i = 0; i < texts.size(); i++) {
            if (texts.get(i) == null) throw new IllegalArgumentException("SentenceEmbedder.embed: texts[" + i + "] is null");
        }
        if (pairs != null && pairs.size() != texts.size()) {
            throw new IllegalArgumentException("SentenceEmbedder.embed: texts has " + texts.size() + " elements but pairs has " + pairs.size());
        }
        if (pairs != null && segmentTokens > 0) {
            throw new IllegalArgumentException("SentenceEmbedder.embed: pairs cannot be partitioned; build the embedder without partition(...)");
        }
        if (model.isClosed()) throw new IllegalStateException("SentenceEmbedder.embed: the embedder was closed");
        int n = texts.size(), h = dimension();
        float[][] out = new float[n][];
        int[] counts = new int[n];
        if (n == 0) return new Embeddings(out, counts);
        if (segmentTokens == 0) {
            List<Encoding> enc = tokenizer.encodeBatch(texts, pairs, EncodeOptions.builder()
                    .truncation(EncodeOptions.Truncation.LONGEST_FIRST).maxLength(maxLength).build());
            List<int[]> ids = new ArrayList<>(n), types = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                ids.add(enc.get(i).ids());
                types.add(enc.get(i).typeIds());
                counts[i] = enc.get(i).length();
            }
            runPooled(ids, pairs == null ? null : types, (row, vec) -> out[row] = vec);
        } else {
            Partition p = Partition.of(tokenizer, texts, segmentTokens);
            float[][] segs = new float[p.segments().size()][];
            runPooled(p.segments(), null, (row, vec) -> segs[row] = vec);
            for (int i = 0; i < n; i++) {
                out[i] = p.combine(i, segs, h);
                counts[i] = p.tokensRead(i);
            }
        }
        if (normalize) for (float[] v : out) SentenceEmbeddings.normalize(v, 1, h);
        return new Embeddings(out, counts);
    }

    private interface Sink {
        void accept(int row, float[] vector);
    }

    /** Runs sequences in length-sorted batches and hands each row's pooled (not normalised) vector to {@code sink}. */
    private void runPooled(List<int[]> ids, List<int[]> types, Sink sink) {
        int h = dimension();
        LengthSortedBatches.run(ids, types, tokenizer.specialTokens().padId(), batchSize, maxBatchTokens, (b, rows) -> {
            float[] hidden = model.forward(b).lastHiddenState().data();
            int s = b.seqLen();
            float[] pooled = pooling.pool(hidden, b.attentionMask(), b.batchSize(), s, h);
            for (int r = 0; r < rows.length; r++) {
                float[] v = new float[h];
                System.arraycopy(pooled, r * h, v, 0, h);
                sink.accept(rows[r], v);
            }
        });
    }

    /** The vectors' length (the model's hidden size). */
    public int dimension() {
        return model.config().hiddenSize();
    }

    /** The pooling in use. */
    public Pooling pooling() {
        return pooling;
    }

    /** Whether vectors are L2-normalised. */
    public boolean normalize() {
        return normalize;
    }

    /** Tokens (special tokens included) a text is truncated to; with {@link Builder#partition}, each part's limit plus 2. */
    public int maxLength() {
        return segmentTokens == 0 ? maxLength : segmentTokens + 2;
    }

    /** Whether long texts are partitioned ({@link Builder#partition}) rather than truncated. */
    public boolean partitions() {
        return segmentTokens > 0;
    }

    /** The tokenizer. */
    public BertTokenizer tokenizer() {
        return tokenizer;
    }

    /** The model's configuration. */
    public BertConfig config() {
        return model.config();
    }

    /** The model directory this embedder was loaded from. */
    public Path directory() {
        return directory;
    }

    /** Frees the model's memory (see {@link BertModel#close()}); later calls fail. */
    @Override
    public void close() {
        model.close();
    }

    /** Settings of a {@link SentenceEmbedder}; unset ones come from the model's files. */
    public static final class Builder {
        private final String name;
        private final Path dir;
        private Pooling pooling;
        private Boolean normalize;
        private int maxLength;
        private int segmentTokens;
        private int batchSize = 32;
        private int maxBatchTokens = 8192;
        private Device device;

        private Builder(String name, Path dir) {
            this.name = name;
            this.dir = dir;
        }

        /** The pooling, instead of the one the sentence-transformers files give (mean without them). */
        public Builder pooling(Pooling pooling) {
            this.pooling = Objects.requireNonNull(pooling, "SentenceEmbedder.Builder.pooling: pooling is null");
            return this;
        }

        /** Whether to L2-normalise, instead of what the sentence-transformers files say (no without them). */
        public Builder normalize(boolean normalize) {
            this.normalize = normalize;
            return this;
        }

        /** Truncate texts to this many tokens, special tokens included (at most max_position_embeddings). */
        public Builder maxLength(int maxLength) {
            if (maxLength < 2) throw new IllegalArgumentException("SentenceEmbedder.Builder.maxLength: must be at least 2 ([CLS] and [SEP]), got " + maxLength);
            this.maxLength = maxLength;
            return this;
        }

        /**
         * Embeds long texts whole instead of truncating them: a text's tokens are cut into parts of at
         * most {@code maxSegmentTokens} (never before a {@code ##} word piece, unless one word is longer
         * than a part), each part embedded as {@code [CLS] part [SEP]} and pooled, and the parts
         * averaged weighted by their token counts; normalisation, when on, comes last.
         */
        public Builder partition(int maxSegmentTokens) {
            if (maxSegmentTokens < 1) {
                throw new IllegalArgumentException("SentenceEmbedder.Builder.partition: maxSegmentTokens must be positive, got " + maxSegmentTokens);
            }
            this.segmentTokens = maxSegmentTokens;
            return this;
        }

        /** Texts per forward pass (default 32). */
        public Builder batchSize(int batchSize) {
            if (batchSize < 1) throw new IllegalArgumentException("SentenceEmbedder.Builder.batchSize: must be positive, got " + batchSize);
            this.batchSize = batchSize;
            return this;
        }

        /** Padded tokens per forward pass at most (default 8192), so batches of long texts stay small. */
        public Builder maxBatchTokens(int maxBatchTokens) {
            if (maxBatchTokens < 1) throw new IllegalArgumentException("SentenceEmbedder.Builder.maxBatchTokens: must be positive, got " + maxBatchTokens);
            this.maxBatchTokens = maxBatchTokens;
            return this;
        }

        /** The device to run on (default the CPU; {@code Device.cuda(0)} needs bertj-cuda on the class path). */
        public Builder device(Device device) {
            this.device = Objects.requireNonNull(device, "SentenceEmbedder.Builder.device: device is null");
            return this;
        }

        /** Resolves and loads the model. */
        public SentenceEmbedder build() throws IOException {
            Path d = dir != null ? dir : ModelResolver.resolve(name);
            SentenceTransformersFiles.Settings st = SentenceTransformersFiles.read(d);
            BertTokenizer tok = BertTokenizer.fromPretrained(d);
            BertModel model = BertModel.fromPretrained(d);
            try {
                int maxPos = model.config().maxPositionEmbeddings();
                OptionalInt fromFiles = st.maxSeqLength();
                int len = maxLength > 0 ? maxLength : Math.min(fromFiles.orElse(Integer.MAX_VALUE), Math.min(tok.modelMaxLength(), maxPos));
                if (len > maxPos) {
                    throw new IllegalArgumentException("SentenceEmbedder.Builder.maxLength: " + len + " is more than the model's max_position_embeddings " + maxPos);
                }
                if (segmentTokens > maxPos - 2) {
                    throw new IllegalArgumentException("SentenceEmbedder.Builder.partition: maxSegmentTokens " + segmentTokens
                            + " leaves no room for [CLS] and [SEP] in the model's max_position_embeddings " + maxPos + " (at most " + (maxPos - 2) + ")");
                }
                if (device != null) model.to(device);
                return new SentenceEmbedder(this, d, tok, model, pooling != null ? pooling : st.pooling(),
                        normalize != null ? normalize : st.normalize(), len);
            } catch (RuntimeException e) {
                model.close();
                throw e;
            }
        }
    }

    /** {@code truncation.max_length} of the model directory's {@code tokenizer.json}, when it truncates (as langchain4j's all-MiniLM-L6-v2's does, at 128). */
    public static OptionalInt tokenizerJsonTruncation(Path modelDir) throws IOException {
        return SentenceTransformersFiles.tokenizerTruncation(modelDir);
    }
}
