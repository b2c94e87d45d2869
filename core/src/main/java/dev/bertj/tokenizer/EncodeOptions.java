package dev.bertj.tokenizer;

/**
 * How to encode: special tokens, truncation and padding, with HF's meanings. The default,
 * {@link #NONE}, is what calling an HF tokenizer with no arguments does: special tokens added,
 * no truncation, no padding.
 *
 * @param addSpecialTokens add [CLS]/[SEP] around the text(s)
 * @param truncation how to shorten inputs longer than {@code maxLength}, or {@link Truncation#NONE}
 * @param maxLength target length including special tokens; {@code 0} means the model's maximum
 * @param stride tokens of overlap between overflowing windows (HF's {@code stride})
 * @param padding {@link Padding#NONE}, {@link Padding#LONGEST} (of the batch) or {@link Padding#MAX_LENGTH}
 * @param padToMultipleOf round the padded length up to a multiple of this; {@code 0} for none
 * @param paddingSide pad on the right (default) or on the left
 */
public record EncodeOptions(boolean addSpecialTokens, Truncation truncation, int maxLength, int stride,
                            Padding padding, int padToMultipleOf, PaddingSide paddingSide) {

    /** Truncation strategies, as HF names them. */
    public enum Truncation {
        /** No truncation. */
        NONE,
        /** Remove tokens from the longer sequence first (HF's default when truncating). */
        LONGEST_FIRST,
        /** Only truncate the first sequence. */
        ONLY_FIRST,
        /** Only truncate the second sequence of a pair. */
        ONLY_SECOND;

        /** Parses HF's names: {@code longest_first}, {@code only_first}, {@code only_second}, {@code do_not_truncate}. */
        public static Truncation parse(String s) {
            return switch (s) {
                case "longest_first", "true" -> LONGEST_FIRST;
                case "only_first" -> ONLY_FIRST;
                case "only_second" -> ONLY_SECOND;
                case "do_not_truncate", "none", "false" -> NONE;
                default -> throw new TokenizerException("unknown truncation strategy '" + s
                        + "' (expected longest_first, only_first or only_second)");
            };
        }
    }

    /** Padding strategies, as HF names them. */
    public enum Padding {
        /** No padding. */
        NONE,
        /** Pad to the longest sequence of the batch. */
        LONGEST,
        /** Pad to {@code maxLength}. */
        MAX_LENGTH;

        /** Parses HF's names: {@code longest}, {@code max_length}, {@code do_not_pad}. */
        public static Padding parse(String s) {
            return switch (s) {
                case "longest", "true" -> LONGEST;
                case "max_length" -> MAX_LENGTH;
                case "do_not_pad", "none", "false" -> NONE;
                default -> throw new TokenizerException("unknown padding strategy '" + s + "' (expected longest or max_length)");
            };
        }
    }

    /** Which side receives padding. */
    public enum PaddingSide { RIGHT, LEFT }

    /**
     * Largest max_length, stride, pad_to_multiple_of, model_max_length and padded length accepted:
     * 2^20 = 1,048,576 tokens, 2,048 times BERT's 512. Padding allocates seven ints per token, so a
     * length from a file or a request is checked against this before anything is allocated.
     */
    public static final int MAX_LENGTH_LIMIT = 1 << 20;

    /** Special tokens, no truncation, no padding. */
    public static final EncodeOptions NONE = builder().build();

    /** Validates the settings. */
    public EncodeOptions {
        if (truncation == null) throw new TokenizerException("truncation must not be null (use Truncation.NONE)");
        if (padding == null) throw new TokenizerException("padding must not be null (use Padding.NONE)");
        if (paddingSide == null) throw new TokenizerException("paddingSide must not be null");
        checkLength("max_length", maxLength);
        checkLength("stride", stride);
        checkLength("pad_to_multiple_of", padToMultipleOf);
        if (stride > 0 && truncation == Truncation.NONE) {
            throw new TokenizerException("stride " + stride + " needs truncation (overflowing windows come from truncating)");
        }
    }

    private static void checkLength(String name, int v) {
        if (v < 0) throw new TokenizerException(name + " must be >= 0, got " + v);
        if (v > MAX_LENGTH_LIMIT) {
            throw new TokenizerException(String.format("%s %,d is more than the limit of %,d tokens (EncodeOptions.MAX_LENGTH_LIMIT)",
                    name, v, MAX_LENGTH_LIMIT));
        }
    }

    /** A builder starting from {@link #NONE}'s settings. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from these settings. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.addSpecialTokens = addSpecialTokens;
        b.truncation = truncation;
        b.maxLength = maxLength;
        b.stride = stride;
        b.padding = padding;
        b.padToMultipleOf = padToMultipleOf;
        b.paddingSide = paddingSide;
        return b;
    }

    /** Builder for {@link EncodeOptions}. */
    public static final class Builder {
        private boolean addSpecialTokens = true;
        private Truncation truncation = Truncation.NONE;
        private int maxLength;
        private int stride;
        private Padding padding = Padding.NONE;
        private int padToMultipleOf;
        private PaddingSide paddingSide = PaddingSide.RIGHT;

        private Builder() { }

        /** Whether to add [CLS]/[SEP] (default true). */
        public Builder addSpecialTokens(boolean v) { addSpecialTokens = v; return this; }
        /** Truncation strategy (default none). */
        public Builder truncation(Truncation v) { truncation = v; return this; }
        /** Maximum length including special tokens; 0 = the model's maximum. */
        public Builder maxLength(int v) { maxLength = v; return this; }
        /** Overlap between overflowing windows. */
        public Builder stride(int v) { stride = v; return this; }
        /** Padding strategy (default none). */
        public Builder padding(Padding v) { padding = v; return this; }
        /** Round padded lengths up to a multiple of this (0 = off). */
        public Builder padToMultipleOf(int v) { padToMultipleOf = v; return this; }
        /** Pad on the left or the right (default right). */
        public Builder paddingSide(PaddingSide v) { paddingSide = v; return this; }
        /** The options. */
        public EncodeOptions build() {
            return new EncodeOptions(addSpecialTokens, truncation, maxLength, stride, padding, padToMultipleOf, paddingSide);
        }
    }
}
