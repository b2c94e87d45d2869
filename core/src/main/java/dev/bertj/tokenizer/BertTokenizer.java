package dev.bertj.tokenizer;

import dev.bertj.io.Json;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ForkJoinPool;
import java.util.function.IntConsumer;

/**
 * A BERT WordPiece tokenizer equal to Hugging Face's fast {@code BertTokenizerFast}: BertNormalizer,
 * BertPreTokenizer, WordPiece and the BERT post-processor.
 *
 * <pre>{@code
 * BertTokenizer tok = BertTokenizer.fromPretrained(Path.of("model-dir"));   // or vocab.txt, tokenizer.json
 * Encoding e = tok.encode("I like BUAN6342");
 * e.tokens();   // [CLS], i, like, bu, ##an, ##6, ##34, ##2, [SEP]
 * }</pre>
 *
 * <p>Thread-safe: one instance serves any number of threads. Each thread keeps its own scratch
 * buffers, so steady-state encoding allocates only the returned {@link Encoding}.
 */
public final class BertTokenizer {
    /** Texts longer than this (in chars) are refused unless the builder raises the limit. */
    public static final int DEFAULT_MAX_INPUT_CHARS = 32 * 1024 * 1024;
    /**
     * Most overflowing windows one encoding (a text or a pair) may have. Truncating a pair {@code
     * longest_first} with a stride yields every combination of the two sides' windows, quadratic in
     * the texts' length; beyond this the call is refused before any window is cut.
     */
    public static final int MAX_OVERFLOWING_WINDOWS = 1 << 16;
    /**
     * Most tokens one call may add beyond its plain encodings, which are proportional to its input:
     * overflowing windows plus padding, all batch items together (2^24 tokens are about 470 MB of
     * encodings; 2^26 ran a 2 GB heap out of memory under fuzzing). A call that would exceed it is
     * refused before anything is allocated; a larger job is encoded in batches.
     */
    public static final long MAX_EXTRA_TOKENS = 1L << 24;
    /** Batches at least this large are encoded on all cores. */
    static final int PARALLEL_BATCH = 64;

    private final Vocab vocab;
    private final String[] tokenTable;
    private final BertNormalizer normalizer;
    private final CharRules rules;
    private final AddedTokens addedTokens;
    private final PostProcessor post;
    private final SpecialTokens special;
    private final int modelMaxLength;
    private final int maxInputCharsPerWord;
    private final int maxInputChars;
    private final ThreadLocal<Workspace> workspaces;

    /** Scratch state of one thread. */
    private static final class Workspace {
        final TokenBuffer first = new TokenBuffer();
        final TokenBuffer second = new TokenBuffer();
        final WordSplitter splitter;

        Workspace(CharRules rules, WordPiece wordPiece) {
            splitter = new WordSplitter(rules, wordPiece);
        }
    }

    BertTokenizer(TokenizerSpec spec) {
        this.vocab = spec.vocab();
        this.tokenTable = spec.tokenTable();
        this.normalizer = spec.normalizer();
        this.rules = new CharRules(normalizer);
        this.special = spec.special();
        this.addedTokens = new AddedTokens(spec.addedTokens());
        this.modelMaxLength = spec.modelMaxLength();
        this.maxInputCharsPerWord = spec.maxInputCharsPerWord();
        this.maxInputChars = spec.maxInputChars();
        this.post = new PostProcessor(special.clsId(), special.sepId(), special.padId(), tokenTable, spec.pairTypeIdsWithoutSpecials());
        int unk = special.unkId();
        this.workspaces = ThreadLocal.withInitial(() -> new Workspace(rules, new WordPiece(vocab, unk, maxInputCharsPerWord)));
    }

    /**
     * Loads a tokenizer from a model directory ({@code tokenizer.json}, or {@code vocab.txt} plus
     * an optional {@code tokenizer_config.json}), a bare {@code vocab.txt}, or a {@code tokenizer.json}.
     *
     * @throws IOException if a file cannot be read
     * @throws TokenizerException if a file is invalid or unsupported; the message names it
     */
    public static BertTokenizer fromPretrained(Path path) throws IOException {
        return new BertTokenizer(TokenizerLoader.load(path, DEFAULT_MAX_INPUT_CHARS));
    }

    /** A builder for tokenizers made from a token list rather than files. */
    public static BertTokenizerBuilder builder() {
        return new BertTokenizerBuilder();
    }

    /** Encodes one text with special tokens, no truncation and no padding. */
    public Encoding encode(String text) {
        return encode(text, null, EncodeOptions.NONE);
    }

    /** Encodes a text pair with special tokens, no truncation and no padding. */
    public Encoding encode(String text, String pair) {
        return encode(text, pair, EncodeOptions.NONE);
    }

    /** Encodes a text, or a pair when {@code pair} is not null, with these options. */
    public Encoding encode(String text, String pair, EncodeOptions options) {
        Objects.requireNonNull(options, "options");
        PostProcessor.Budget budget = new PostProcessor.Budget();
        Encoding e = encodeUnpadded(text, pair, options, budget);
        return pad(List.of(e), options, budget).getFirst();
    }

    /** Encodes texts; padding {@code LONGEST} pads to the longest of the batch. Large batches use all cores. */
    public List<Encoding> encodeBatch(List<String> texts, EncodeOptions options) {
        return encodeBatch(texts, null, options);
    }

    /**
     * Encodes texts, each paired with {@code pairs.get(i)} when {@code pairs} is not null (an
     * element may be null for no pair).
     */
    public List<Encoding> encodeBatch(List<String> texts, List<String> pairs, EncodeOptions options) {
        Objects.requireNonNull(texts, "texts");
        Objects.requireNonNull(options, "options");
        if (pairs != null && pairs.size() != texts.size()) {
            throw new TokenizerException("texts and pairs differ in size: " + texts.size() + " vs " + pairs.size());
        }
        Encoding[] out = new Encoding[texts.size()];
        PostProcessor.Budget budget = new PostProcessor.Budget();
        IntConsumer encodeItem = i -> {
            try {
                out[i] = encodeUnpadded(texts.get(i), pairs == null ? null : pairs.get(i), options, budget);
            } catch (TokenizerException ex) {
                throw new TokenizerException("batch item " + i + ": " + ex.getMessage(), ex);
            }
        };
        if (out.length >= PARALLEL_BATCH && ForkJoinPool.getCommonPoolParallelism() > 0) {
            BatchScheduler.run(BatchScheduler.longestFirst(texts, pairs), encodeItem);
        } else {
            for (int i = 0; i < out.length; i++) encodeItem.accept(i);
        }
        return pad(List.of(out), options, budget);
    }

    /**
     * HF's {@code tokenizer.pad}: pads encodings as {@code options} says (its padding fields only):
     * {@code LONGEST} to the longest of the list, {@code MAX_LENGTH} to max_length.
     *
     * @throws TokenizerException if the padded length is beyond {@link EncodeOptions#MAX_LENGTH_LIMIT}
     *     or the padding would add more than {@link #MAX_EXTRA_TOKENS} tokens
     */
    public List<Encoding> pad(List<Encoding> encodings, EncodeOptions options) {
        Objects.requireNonNull(encodings, "encodings");
        Objects.requireNonNull(options, "options");
        return pad(encodings, options, new PostProcessor.Budget());
    }

    private List<Encoding> pad(List<Encoding> encodings, EncodeOptions options, PostProcessor.Budget budget) {
        int target = switch (options.padding()) {
            case NONE -> -1;
            case LONGEST -> {
                int m = 0;
                for (Encoding e : encodings) m = Math.max(m, e.length());
                yield m;
            }
            case MAX_LENGTH -> resolveMaxLength(options, "padding max_length");
        };
        if (target < 0) return List.copyOf(encodings);
        int padded = roundUp(target, options.padToMultipleOf());
        PostProcessor.chargePadding(encodings, padded, budget);
        List<Encoding> result = new ArrayList<>(encodings.size());
        for (Encoding e : encodings) result.add(post.pad(e, padded, options.paddingSide()));
        return result;
    }

    /** HF's {@code tokenize()}: the WordPiece tokens of a text, without special tokens. */
    public List<String> tokenize(String text) {
        Encoding e = encode(text, null, EncodeOptions.builder().addSpecialTokens(false).build());
        return List.of(e.tokens());
    }

    private Encoding encodeUnpadded(String text, String pair, EncodeOptions options, PostProcessor.Budget budget) {
        Workspace ws = workspaces.get();
        PostProcessor.Seq a = split(text, "text", ws.first, ws.splitter);
        PostProcessor.Seq b = pair == null ? null : split(pair, "text_pair", ws.second, ws.splitter);
        int maxLength = options.truncation() == EncodeOptions.Truncation.NONE ? 0 : resolveMaxLength(options, "truncation");
        return post.process(a, b, options, maxLength, budget);
    }

    private PostProcessor.Seq split(String text, String what, TokenBuffer buf, WordSplitter splitter) {
        if (text == null) throw new TokenizerException(what + " is null");
        if (text.length() > maxInputChars) {
            throw new TokenizerException(String.format("%s has %,d chars, more than the limit of %,d; split it, or raise the "
                    + "limit with BertTokenizer.builder().maxInputChars(...)", what, text.length(), maxInputChars));
        }
        buf.clear();
        splitter.begin(buf);
        addedTokens.split(text, splitter);
        return PostProcessor.Seq.of(buf);
    }

    private int resolveMaxLength(EncodeOptions options, String why) {
        if (options.maxLength() > 0) return options.maxLength();
        if (modelMaxLength == Integer.MAX_VALUE) {
            throw new TokenizerException(why + " needs max_length: none was given and the tokenizer has no model_max_length");
        }
        return modelMaxLength;
    }

    /** Rounds up to a multiple; both are at most 2^31 - 1, so the sum is kept in a long and capped. */
    private static int roundUp(int n, int multiple) {
        if (multiple <= 0 || n % multiple == 0) return n;
        return (int) Math.min(Integer.MAX_VALUE, (long) n + multiple - n % multiple);
    }

    /** HF's {@code convert_ids_to_tokens}. */
    public String[] convertIdsToTokens(int... ids) {
        String[] out = new String[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = idToToken(ids[i]);
        return out;
    }

    /** HF's {@code convert_tokens_to_ids}: unknown tokens map to the [UNK] id. */
    public int[] convertTokensToIds(String... tokens) {
        int[] out = new int[tokens.length];
        for (int i = 0; i < tokens.length; i++) out[i] = tokenToId(tokens[i]);
        return out;
    }

    /** The token of an id, including added tokens beyond the vocabulary. */
    public String idToToken(int id) {
        if (id < 0 || id >= tokenTable.length) {
            throw new TokenizerException("token id " + id + " is outside the vocabulary (0.." + (tokenTable.length - 1) + ")");
        }
        return tokenTable[id];
    }

    /** The id of a token, or the [UNK] id when it is unknown. */
    public int tokenToId(String token) {
        int id = vocab.id(token);
        if (id >= 0) return id;
        for (int i = vocab.size(); i < tokenTable.length; i++) if (tokenTable[i].equals(token)) return i;
        return special.unkId();
    }

    /**
     * HF's {@code convert_tokens_to_string} (the WordPiece decoder): joins with spaces, glues
     * {@code ##} pieces to the previous token and applies HF's clean-up of spaces before
     * punctuation and contractions.
     */
    public String convertTokensToString(List<String> tokens) {
        return Decoder.decode(tokens, vocab.continuingPrefix(), true);
    }

    /** HF's {@code decode(ids)}. */
    public String decode(int... ids) {
        return decode(ids, false);
    }

    /** HF's {@code decode(ids, skip_special_tokens)}. */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        List<String> tokens = new ArrayList<>(ids.length);
        for (int id : ids) {
            if (skipSpecialTokens && special.isSpecialId(id)) continue;
            tokens.add(idToToken(id));
        }
        // Python's decode cleans up the joined text once more (clean_up_tokenization_spaces).
        return Decoder.cleanup(convertTokensToString(tokens));
    }

    /** HF's {@code vocab_size}: the base vocabulary, without added tokens. */
    public int vocabSize() {
        return vocab.size();
    }

    /** The vocabulary. */
    public Vocab vocab() {
        return vocab;
    }

    /** The special tokens and their ids. */
    public SpecialTokens specialTokens() {
        return special;
    }

    /** HF's {@code model_max_length}; {@link Integer#MAX_VALUE} when the tokenizer sets none. */
    public int modelMaxLength() {
        return modelMaxLength;
    }

    /** The normalizer settings. */
    public BertNormalizer normalizer() {
        return normalizer;
    }

    /** Words longer than this many code points become [UNK]. */
    public int maxInputCharsPerWord() {
        return maxInputCharsPerWord;
    }

    /**
     * HF's {@code tokenizer_config.json} for this tokenizer: the normalizer flags, the special
     * tokens and {@code model_max_length} ({@code modelMaxLengthIfUnset}, usually the model's
     * max_position_embeddings, when the tokenizer sets none), so that a {@code vocab.txt}
     * directory loads back, in bertj or in transformers, as the same tokenizer.
     */
    public String tokenizerConfigJson(int modelMaxLengthIfUnset) {
        SpecialTokens s = special;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("do_lower_case", normalizer.lowercase());
        m.put("strip_accents", normalizer.stripAccents());
        m.put("tokenize_chinese_chars", normalizer.handleChineseChars());
        m.put("model_max_length", (long) (modelMaxLength == Integer.MAX_VALUE ? modelMaxLengthIfUnset : modelMaxLength));
        m.put("unk_token", s.unk());
        m.put("sep_token", s.sep());
        m.put("pad_token", s.pad());
        m.put("cls_token", s.cls());
        m.put("mask_token", s.mask());
        m.put("tokenizer_class", "BertTokenizer");
        return Json.writePretty(m) + "\n";
    }

    /**
     * Writes {@code dir/vocab.txt}, one token per line in id order, as HF's
     * {@code BertTokenizer.save_vocabulary} does. Plain write, not atomic: callers that need
     * atomicity write into a temporary directory (see {@code dev.bertj.train.Checkpoint}).
     *
     * @return the file written
     */
    public Path saveVocabulary(Path dir) throws IOException {
        Path file = dir.resolve("vocab.txt");
        Files.writeString(file, String.join("\n", vocab.tokens()) + "\n", StandardCharsets.UTF_8);
        return file;
    }
}
