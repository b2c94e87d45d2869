package dev.bertj.tokenizer;

import java.util.Arrays;
import java.util.List;

/**
 * One encoded input, like an HF {@code Encoding}: ids and the arrays aligned with them.
 * Immutable; the array accessors return copies.
 *
 * <p>Offsets are Java String indices into the original text (the first text for tokens of the
 * first sequence, the pair text for the second), so {@code text.substring(start, end)} is the
 * token's source. Special and padding tokens have offsets (0, 0) and word id -1.
 */
public final class Encoding {
    final int[] ids;
    final int[] typeIds;
    final int[] attentionMask;
    final int[] specialTokensMask;
    final int[] wordIds;
    final int[] offsetStarts;
    final int[] offsetEnds;
    private final String[] tokenTable;
    private final List<Encoding> overflowing;

    Encoding(int[] ids, int[] typeIds, int[] attentionMask, int[] specialTokensMask, int[] wordIds,
             int[] offsetStarts, int[] offsetEnds, String[] tokenTable, List<Encoding> overflowing) {
        this.ids = ids;
        this.typeIds = typeIds;
        this.attentionMask = attentionMask;
        this.specialTokensMask = specialTokensMask;
        this.wordIds = wordIds;
        this.offsetStarts = offsetStarts;
        this.offsetEnds = offsetEnds;
        this.tokenTable = tokenTable;
        this.overflowing = List.copyOf(overflowing);
    }

    /** Number of tokens, padding included. */
    public int length() {
        return ids.length;
    }

    /** HF's {@code input_ids}. */
    public int[] ids() {
        return ids.clone();
    }

    /** The id at position {@code i}. */
    public int id(int i) {
        return ids[i];
    }

    /** HF's {@code token_type_ids}: 0 for the first sequence, 1 for the second. */
    public int[] typeIds() {
        return typeIds.clone();
    }

    /** HF's {@code attention_mask}: 1 for real tokens, 0 for padding. */
    public int[] attentionMask() {
        return attentionMask.clone();
    }

    /** HF's {@code special_tokens_mask}: 1 for tokens added by post-processing and padding. */
    public int[] specialTokensMask() {
        return specialTokensMask.clone();
    }

    /** HF's {@code word_ids()}, with -1 where HF has None. */
    public int[] wordIds() {
        return wordIds.clone();
    }

    /** Start offsets (inclusive) of each token in its source text. */
    public int[] offsetStarts() {
        return offsetStarts.clone();
    }

    /** End offsets (exclusive) of each token in its source text. */
    public int[] offsetEnds() {
        return offsetEnds.clone();
    }

    /** The token strings, HF's {@code tokens}. */
    public String[] tokens() {
        String[] t = new String[ids.length];
        for (int i = 0; i < t.length; i++) t[i] = tokenTable[ids[i]];
        return t;
    }

    /** The token string at position {@code i}. */
    public String token(int i) {
        return tokenTable[ids[i]];
    }

    /** Windows cut off by truncation with overflow, each encoded and padded like this one. */
    public List<Encoding> overflowing() {
        return overflowing;
    }

    /** Number of non-padding tokens. */
    public int realLength() {
        int n = 0;
        for (int m : attentionMask) n += m;
        return n;
    }

    /**
     * Equal when every array (ids, type ids, masks, word ids, offsets) and every overflowing window
     * is equal: two encodings of the same input by equally configured tokenizers are equal.
     */
    @Override
    public boolean equals(Object o) {
        return o instanceof Encoding e && Arrays.equals(ids, e.ids) && Arrays.equals(typeIds, e.typeIds)
                && Arrays.equals(attentionMask, e.attentionMask) && Arrays.equals(specialTokensMask, e.specialTokensMask)
                && Arrays.equals(wordIds, e.wordIds) && Arrays.equals(offsetStarts, e.offsetStarts)
                && Arrays.equals(offsetEnds, e.offsetEnds) && overflowing.equals(e.overflowing);
    }

    @Override
    public int hashCode() {
        return (Arrays.hashCode(ids) * 31 + Arrays.hashCode(offsetStarts)) * 31 + overflowing.hashCode();
    }

    @Override
    public String toString() {
        return "Encoding" + Arrays.toString(tokens());
    }
}
