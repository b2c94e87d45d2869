package dev.bertj.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Builds a {@link BertTokenizer} from a token list and settings, for when the vocabulary does not
 * come from files. Required: {@link #tokens(List)}. Everything else has BERT's defaults.
 */
public final class BertTokenizerBuilder {
    private List<String> tokens;
    private BertNormalizer normalizer = BertNormalizer.UNCASED;
    private String unk = "[UNK]", sep = "[SEP]", pad = "[PAD]", cls = "[CLS]", mask = "[MASK]";
    private int modelMaxLength = Integer.MAX_VALUE;
    private int maxInputCharsPerWord = 100;
    private int maxInputChars = BertTokenizer.DEFAULT_MAX_INPUT_CHARS;
    private String continuingPrefix = "##";
    private String source = "<tokens>";

    BertTokenizerBuilder() { }

    /** The vocabulary, in id order (required). */
    public BertTokenizerBuilder tokens(List<String> tokens) {
        this.tokens = new ArrayList<>(Objects.requireNonNull(tokens, "tokens"));
        return this;
    }

    /** Normalizer settings (default {@link BertNormalizer#UNCASED}). */
    public BertTokenizerBuilder normalizer(BertNormalizer normalizer) {
        this.normalizer = Objects.requireNonNull(normalizer, "normalizer");
        return this;
    }

    /** The special token strings (defaults [UNK], [SEP], [PAD], [CLS], [MASK]). */
    public BertTokenizerBuilder specialTokens(String unk, String sep, String pad, String cls, String mask) {
        this.unk = unk;
        this.sep = sep;
        this.pad = pad;
        this.cls = cls;
        this.mask = mask;
        return this;
    }

    /**
     * HF's model_max_length, the default max_length: at most {@link EncodeOptions#MAX_LENGTH_LIMIT},
     * or {@link Integer#MAX_VALUE} for none (the default).
     */
    public BertTokenizerBuilder modelMaxLength(int n) {
        this.modelMaxLength = TokenizerLoader.modelMaxLength(n, "model_max_length");
        return this;
    }

    /** Words longer than this many code points become [UNK] (default 100). */
    public BertTokenizerBuilder maxInputCharsPerWord(int n) {
        if (n <= 0) throw new TokenizerException("max_input_chars_per_word must be positive, got " + n);
        this.maxInputCharsPerWord = n;
        return this;
    }

    /** Longest text accepted, in chars (default {@link BertTokenizer#DEFAULT_MAX_INPUT_CHARS}). */
    public BertTokenizerBuilder maxInputChars(int n) {
        if (n <= 0) throw new TokenizerException("maxInputChars must be positive, got " + n);
        this.maxInputChars = n;
        return this;
    }

    /** The word-internal piece prefix (default {@code ##}). */
    public BertTokenizerBuilder continuingSubwordPrefix(String prefix) {
        this.continuingPrefix = Objects.requireNonNull(prefix, "prefix");
        return this;
    }

    /** Names the origin of the tokens in error messages, e.g. a file name. */
    public BertTokenizerBuilder source(String source) {
        this.source = source;
        return this;
    }

    /** Validates and builds the tokenizer. */
    public BertTokenizer build() {
        if (tokens == null) throw new TokenizerException("tokens are required");
        Vocab vocab = new Vocab(tokens.toArray(String[]::new), continuingPrefix, source);
        return new BertTokenizer(TokenizerLoader.spec(vocab, vocab.tokens().toArray(String[]::new), normalizer,
                unk, sep, pad, cls, mask, List.of(), modelMaxLength, maxInputCharsPerWord, maxInputChars, true, source, role -> ""));
    }
}
