package dev.bertj.serve;

import dev.bertj.api.Pooling;

import dev.bertj.backend.Device;
import dev.bertj.io.SafeTensors;
import dev.bertj.model.BertConfig;
import dev.bertj.model.BertForMaskedLM;
import dev.bertj.model.BertModel;
import dev.bertj.model.BertModelOutput;
import dev.bertj.model.ClassifierOutput;
import dev.bertj.model.SentenceEmbeddings;
import dev.bertj.model.SequenceClassifier;
import dev.bertj.tensor.Tensor;
import dev.bertj.tokenizer.Batch;
import dev.bertj.tokenizer.BertTokenizer;
import dev.bertj.tokenizer.EncodeOptions;
import dev.bertj.tokenizer.Encoding;
import dev.bertj.train.Checkpoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * The server's work without HTTP: embeddings, classification, tokenization and fill-mask on one loaded
 * model, every forward pass going through one {@link Batcher}, so callers on any number of threads
 * share batches. Inputs are validated here (empty, lone surrogates, too many, too long), each error a
 * {@link ServeException} naming the field and index at fault; tokenization runs on the caller's thread.
 *
 * <pre>{@code
 * try (EmbeddingService s = EmbeddingService.load(dir, "my-model", EmbeddingService.Settings.defaults(), null)) {
 *     List<float[]> v = s.embed(List.of("hello", "world"), true, null, "inputs").vectors();
 * }
 * }</pre>
 */
public final class EmbeddingService implements AutoCloseable {
    /**
     * Limits and defaults (TEI's names and defaults).
     *
     * @param maxBatchTokens padded tokens the batcher takes from the queue at once (16384)
     * @param maxClientBatchSize inputs one call may carry (32)
     * @param maxInputLength tokens one input may have; 0 for the model's maximum
     * @param autoTruncate truncate long inputs when a call does not say (false)
     * @param device where the model runs
     */
    public record Settings(int maxBatchTokens, int maxClientBatchSize, int maxInputLength, boolean autoTruncate, Device device) {
        /** TEI's defaults on the CPU. */
        public static Settings defaults() {
            return new Settings(16384, 32, 0, false, Device.cpu());
        }
    }

    /**
     * The fill-mask postprocess (HF's pipeline: softmax, top k, the filled sequence) of one text with
     * one mask, given from outside so that it lives in one place in bertj.
     */
    @FunctionalInterface
    public interface MaskFiller {
        /** The JSON-ready predictions for {@code text}'s mask, best first. */
        Object fill(BertForMaskedLM model, BertTokenizer tokenizer, String text, int topK);
    }

    /** One class and its score (a probability, or the logit with raw scores). */
    public record Prediction(String label, float score) { }

    /** One token as TEI's /tokenize gives it: offsets in UTF-8 bytes, null for special tokens. */
    public record Token(int id, String text, boolean special, Integer start, Integer stop) { }

    /** Vectors in input order, and the tokens they were computed from (OpenAI's usage). */
    public record Embeddings(List<float[]> vectors, int promptTokens) { }

    private final String modelName;
    private final BertTokenizer tokenizer;
    private final BertModel encoder;
    private final SequenceClassifier<?> classifier;
    private final BertForMaskedLM maskedLm;
    private final MaskFiller filler;
    private final Pooling pooling;
    private final Settings settings;
    private final int maxInputLength;
    private final Metrics metrics;
    private final Batcher batcher;
    private final Batcher.Forward embedForward;
    private final Batcher.Forward classifyForward;

    private EmbeddingService(String modelName, BertTokenizer tokenizer, BertModel encoder, SequenceClassifier<?> classifier,
                             BertForMaskedLM maskedLm, MaskFiller filler, Pooling pooling, Settings settings, Metrics metrics) {
        this.modelName = modelName;
        this.tokenizer = tokenizer;
        this.encoder = encoder;
        this.classifier = classifier;
        this.maskedLm = maskedLm;
        this.filler = filler;
        this.pooling = pooling;
        this.settings = settings;
        this.metrics = metrics;
        int positions = encoder.config().maxPositionEmbeddings();
        int modelMax = Math.min(tokenizer.modelMaxLength(), positions);
        if (settings.maxInputLength() > positions) {
            throw new IllegalArgumentException("max input length " + settings.maxInputLength() + " exceeds the model's " + positions + " positions");
        }
        this.maxInputLength = settings.maxInputLength() > 0 ? settings.maxInputLength() : modelMax;
        if (settings.maxBatchTokens() < maxInputLength) {
            throw new IllegalArgumentException("max batch tokens " + settings.maxBatchTokens() + " must be at least the max input length " + maxInputLength);
        }
        if (settings.maxClientBatchSize() < 1) throw new IllegalArgumentException("max client batch size must be at least 1");
        this.batcher = new Batcher(settings.maxBatchTokens(), 32, tokenizer.specialTokens().padId(), metrics);
        int h = encoder.config().hiddenSize();
        this.embedForward = b -> rows(pool(encoder.forward(b), b, h), b.batchSize(), h);
        this.classifyForward = classifier == null ? null : b -> rows(classifier.forward(b).logits().data(), b.batchSize(), classifier.numLabels());
    }

    /**
     * Loads the model in {@code dir}: a classification checkpoint ({@code ./bertj train}'s, or HF's
     * BertForSequenceClassification) serves predictions; a masked-LM one ({@code cls.predictions}, as
     * bert-base-uncased) serves fill-mask; every model serves embeddings and tokenization.
     *
     * @param modelName the name /info and OpenAI's {@code model} report
     * @param filler the fill-mask postprocess; null serves no fill-mask
     * @throws IOException if a model file cannot be read
     */
    public static EmbeddingService load(Path dir, String modelName, Settings settings, MaskFiller filler) throws IOException {
        BertTokenizer tok = BertTokenizer.fromPretrained(dir);
        Pooling pooling = Pooling.of(dir);
        SequenceClassifier<?> classifier = null;
        BertForMaskedLM mlm = null;
        BertModel encoder;
        Checkpoint.HeadKind kind = Checkpoint.headKind(dir);
        // A masked-LM checkpoint (HeadKind.MASKED_LM) has no classifier: it serves /fill-mask instead.
        if (kind == Checkpoint.HeadKind.SEQUENCE_CLASSIFICATION || kind == Checkpoint.HeadKind.CUSTOM) {
            classifier = Checkpoint.loadClassifierOfAnyKind(dir).to(settings.device());
            encoder = classifier.bert();
        } else if (hasMaskedLmHead(dir)) {
            mlm = BertForMaskedLM.fromPretrained(dir).to(settings.device());
            encoder = mlm.bert();
        } else {
            encoder = BertModel.fromPretrained(dir).to(settings.device());
        }
        return new EmbeddingService(modelName, tok, encoder, classifier, mlm, filler, pooling, settings, new Metrics());
    }

    /** Whether config.json names a masked-LM architecture or the weights hold HF's MLM head. */
    private static boolean hasMaskedLmHead(Path dir) throws IOException {
        BertConfig config = BertConfig.read(dir.resolve("config.json"));
        for (Object a : config.architectures()) if ("BertForMaskedLM".equals(a) || "BertForPreTraining".equals(a)) return true;
        Path st = dir.resolve("model.safetensors");
        if (!Files.isRegularFile(st)) return false;
        try (SafeTensors t = SafeTensors.open(st)) {
            return t.names().stream().anyMatch(n -> n.startsWith("cls.predictions."));
        }
    }

    // ---------------------------------------------------------------------------------- embeddings

    /**
     * Sentence embeddings of {@code texts}, pooled as the model says, L2-normalized when asked.
     *
     * @param truncate truncate inputs longer than the max input length; null for the server's default
     * @param field the request field the texts came from, named in errors ({@code inputs}, {@code input})
     */
    public Embeddings embed(List<String> texts, boolean normalize, Boolean truncate, String field) {
        List<Encoding> enc = encode(texts, field, truncate == null ? settings.autoTruncate() : truncate);
        List<CompletableFuture<float[]>> futures = new ArrayList<>(enc.size());
        int tokens = 0;
        for (Encoding e : enc) {
            futures.add(batcher.submit(embedForward, e.ids(), e.typeIds()));
            tokens += e.length();
        }
        List<float[]> out = new ArrayList<>(futures.size());
        int h = dimensions();
        for (CompletableFuture<float[]> f : futures) {
            float[] v = await(f).clone(); // the row is ours to normalize
            if (normalize) SentenceEmbeddings.normalize(v, 1, h);
            out.add(v);
        }
        return new Embeddings(out, tokens);
    }

    private float[] pool(BertModelOutput o, Batch b, int h) {
        float[] hidden = o.lastHiddenState().data();
        return pooling.pool(hidden, b.attentionMask(), b.batchSize(), b.seqLen(), h);
    }

    private static float[][] rows(float[] flat, int b, int width) {
        float[][] r = new float[b][];
        for (int i = 0; i < b; i++) r[i] = Arrays.copyOfRange(flat, i * width, (i + 1) * width);
        return r;
    }

    // ------------------------------------------------------------------------------ classification

    /**
     * Class scores of each input ({@code [text]} or {@code [text, pair]}), best first: probabilities
     * (softmax), or the logits with {@code rawScores}.
     *
     * @throws ServeException of type Unsupported when the model has no classification head
     */
    public List<List<Prediction>> predict(List<String[]> inputs, boolean rawScores, Boolean truncate) {
        if (classifier == null) {
            throw new ServeException(ServeException.Type.Unsupported, "model is not a classifier: /predict needs a checkpoint with a classification head"
                    + " (./bertj train writes one)");
        }
        List<String> texts = new ArrayList<>(inputs.size()), pairs = new ArrayList<>(inputs.size());
        for (String[] in : inputs) {
            texts.add(in[0]);
            pairs.add(in.length > 1 ? in[1] : null);
        }
        List<Encoding> enc = encode(texts, pairs, "inputs", truncate == null ? settings.autoTruncate() : truncate);
        List<CompletableFuture<float[]>> futures = new ArrayList<>();
        for (Encoding e : enc) futures.add(batcher.submit(classifyForward, e.ids(), e.typeIds()));
        List<List<Prediction>> out = new ArrayList<>();
        int n = classifier.numLabels();
        for (CompletableFuture<float[]> f : futures) {
            float[] logits = await(f);
            // ClassifierOutput's softmax, so scores equal ./bertj classify's to the bit.
            float[] scores = rawScores ? logits : new ClassifierOutput(new Tensor(logits.clone(), 1, n), Float.NaN).probabilities();
            List<Prediction> p = new ArrayList<>(n);
            for (int c = 0; c < n; c++) p.add(new Prediction(classifier.labelName(c), scores[c]));
            p.sort(Comparator.comparingDouble((Prediction x) -> x.score()).reversed());
            out.add(p);
        }
        return out;
    }

    // -------------------------------------------------------------------------------- tokenization

    /** Each text's tokens, with special tokens when asked; no truncation. */
    public List<List<Token>> tokenize(List<String> texts, boolean addSpecialTokens) {
        checkInputs(texts, "inputs");
        long start = System.nanoTime();
        EncodeOptions opts = EncodeOptions.builder().addSpecialTokens(addSpecialTokens).build();
        List<List<Token>> out = new ArrayList<>(texts.size());
        for (int i = 0; i < texts.size(); i++) {
            String text = texts.get(i);
            Encoding e = encodeOne(text, null, opts, where("inputs", i, texts.size()));
            int[] ids = e.ids(), special = e.specialTokensMask(), starts = e.offsetStarts(), ends = e.offsetEnds();
            int[] bytes = utf8Offsets(text);
            List<Token> tokens = new ArrayList<>(ids.length);
            for (int t = 0; t < ids.length; t++) {
                if (special[t] == 1) tokens.add(new Token(ids[t], e.token(t), true, null, null));
                else tokens.add(new Token(ids[t], text.substring(starts[t], ends[t]), false, bytes[starts[t]], bytes[ends[t]]));
            }
            out.add(tokens);
        }
        metrics.tokenized((System.nanoTime() - start) / 1e9);
        return out;
    }

    /** UTF-8 byte offset of every char index of {@code s} (length + 1 entries), as TEI's offsets are bytes. */
    private static int[] utf8Offsets(String s) {
        int[] at = new int[s.length() + 1];
        int b = 0;
        for (int i = 0; i < s.length(); i++) {
            at[i] = b;
            char c = s.charAt(i);
            if (c < 0x80) b += 1;
            else if (c < 0x800) b += 2;
            else if (Character.isHighSurrogate(c)) b += 4;
            else if (!Character.isLowSurrogate(c)) b += 3; // a low surrogate's bytes were counted with its high one
        }
        at[s.length()] = b;
        return at;
    }

    // ----------------------------------------------------------------------------------- fill-mask

    /** HF's fill-mask pipeline for each text (one mask each), top {@code topK} first. */
    public List<Object> fillMask(List<String> texts, int topK) {
        if (maskedLm == null || filler == null) {
            throw new ServeException(ServeException.Type.Unsupported, "model has no masked-LM head: /fill-mask needs one (cls.predictions, as bert-base-uncased has)");
        }
        if (topK < 1) throw ServeException.invalid("top_k", "must be at least 1, got " + topK);
        int k = Math.min(topK, maskedLm.vocabSize());
        List<Encoding> enc = encode(texts, "inputs", false);
        int maskId = tokenizer.tokenToId(tokenizer.specialTokens().mask());
        for (int i = 0; i < enc.size(); i++) {
            long masks = Arrays.stream(enc.get(i).ids()).filter(id -> id == maskId).count();
            if (masks != 1) {
                throw ServeException.invalid(where("inputs", i, enc.size()), "needs exactly one " + tokenizer.specialTokens().mask() + " token, found " + masks
                        + (masks > 1 ? " (the server fills one mask per text; send each mask in its own text)" : ""));
            }
        }
        List<CompletableFuture<Object>> futures = new ArrayList<>();
        for (String t : texts) futures.add(batcher.submitTask(() -> filler.fill(maskedLm, tokenizer, t, k)));
        List<Object> out = new ArrayList<>();
        for (CompletableFuture<Object> f : futures) out.add(await(f));
        return out;
    }

    // ------------------------------------------------------------------------------------ encoding

    private List<Encoding> encode(List<String> texts, String field, boolean truncate) {
        return encode(texts, null, field, truncate);
    }

    /** Validates and tokenizes on the caller's thread; too long is a 413 unless truncating. */
    private List<Encoding> encode(List<String> texts, List<String> pairs, String field, boolean truncate) {
        checkInputs(texts, field);
        if (pairs != null) {
            for (int i = 0; i < pairs.size(); i++) if (pairs.get(i) != null) checkText(pairs.get(i), where(field, i, pairs.size()) + "[1]");
        }
        long start = System.nanoTime();
        EncodeOptions opts = truncate
                ? EncodeOptions.builder().truncation(EncodeOptions.Truncation.LONGEST_FIRST).maxLength(maxInputLength).build()
                : EncodeOptions.NONE;
        List<Encoding> out = new ArrayList<>(texts.size());
        for (int i = 0; i < texts.size(); i++) {
            String where = where(field, i, texts.size());
            Encoding e = encodeOne(texts.get(i), pairs == null ? null : pairs.get(i), opts, where);
            if (e.length() > maxInputLength) {
                throw new ServeException(ServeException.Type.TooLarge, where + ": " + e.length() + " tokens, more than the maximum input length "
                        + maxInputLength + " (set \"truncate\": true, or start the server with --auto-truncate)");
            }
            out.add(e);
        }
        metrics.tokenized((System.nanoTime() - start) / 1e9);
        return out;
    }

    private Encoding encodeOne(String text, String pair, EncodeOptions opts, String where) {
        try {
            return tokenizer.encode(text, pair, opts);
        } catch (IllegalArgumentException e) {
            throw ServeException.invalid(where, e.getMessage());
        }
    }

    private void checkInputs(List<String> texts, String field) {
        if (texts.isEmpty()) throw ServeException.invalid(field, "must not be empty");
        if (texts.size() > settings.maxClientBatchSize()) {
            throw new ServeException(ServeException.Type.TooLarge, field + ": batch size " + texts.size() + " > maximum allowed batch size "
                    + settings.maxClientBatchSize());
        }
        for (int i = 0; i < texts.size(); i++) checkText(texts.get(i), where(field, i, texts.size()));
    }

    /** How errors name input {@code i} of {@code n}: the field alone for a single input. */
    private static String where(String field, int i, int n) {
        return n == 1 ? field : field + "[" + i + "]";
    }

    /** Empty strings and lone surrogates (a JSON escape like \ud800 makes one) are refused, naming where. */
    private static void checkText(String s, String where) {
        if (s == null) throw ServeException.invalid(where, "expected a string but found null");
        if (s.isEmpty()) throw ServeException.invalid(where, "must not be an empty string");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw ServeException.invalid(where, String.format("lone surrogate U+%04X at char %d is not valid Unicode text", (int) c, i));
            }
        }
    }

    private static <T> T await(CompletableFuture<T> f) {
        try {
            return f.get();
        } catch (ExecutionException | CompletionException e) {
            if (e.getCause() instanceof ServeException s) throw s;
            throw new ServeException(ServeException.Type.Backend, "inference failed", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ServeException(ServeException.Type.Unhealthy, "interrupted while waiting for the model");
        }
    }

    // -------------------------------------------------------------------------------------- facts

    /** The name given at load. */
    public String modelName() {
        return modelName;
    }

    /** Embedding width (the hidden size). */
    public int dimensions() {
        return encoder.config().hiddenSize();
    }

    /** Tokens an input may have. */
    public int maxInputLength() {
        return maxInputLength;
    }

    /** The pooling embeddings use. */
    public Pooling pooling() {
        return pooling;
    }

    /** The limits this service was built with. */
    public Settings settings() {
        return settings;
    }

    /** Class names in id order, or null when the model has no classification head. */
    public List<String> labels() {
        if (classifier == null) return null;
        List<String> l = new ArrayList<>();
        for (int c = 0; c < classifier.numLabels(); c++) l.add(classifier.labelName(c));
        return l;
    }

    /** Whether /fill-mask is served. */
    public boolean servesFillMask() {
        return maskedLm != null && filler != null;
    }

    /** The batcher every forward pass goes through. */
    public Batcher batcher() {
        return batcher;
    }

    /** Queue, tokenization and inference statistics. */
    public Metrics metrics() {
        return metrics;
    }

    /** Whether the inference loop is running. */
    public boolean healthy() {
        return batcher.isRunning();
    }

    /** Finishes queued work and stops the inference loop (at most {@code timeoutMillis}). */
    public void close(long timeoutMillis) {
        batcher.close(timeoutMillis);
    }

    @Override
    public void close() {
        batcher.close();
    }
}
