package dev.bertj.tokenizer;

/**
 * What normalization plus pre-tokenization make of each character, precomputed for one
 * {@link BertNormalizer}: a table for ASCII and a lazily filled cache for the rest of the BMP.
 * Shared by all threads; cache entries are immutable Strings, so a racy fill is harmless.
 */
final class CharRules {
    static final byte WORD = 0, SPACE = 1, PUNCT = 2, DROP = 3;

    final BertNormalizer normalizer;
    final boolean cleanText;
    final boolean chinese;
    /** Class of each ASCII char after normalization. */
    final byte[] asciiClass = new byte[128];
    /** Each ASCII char after normalization (lowercased when lowercasing). */
    final char[] asciiChar = new char[128];
    private final String[] bmp = new String[65536];

    CharRules(BertNormalizer normalizer) {
        this.normalizer = normalizer;
        this.cleanText = normalizer.cleanText();
        this.chinese = normalizer.handleChineseChars();
        for (int c = 0; c < 128; c++) {
            asciiChar[c] = normalizer.lowercase() ? Character.toLowerCase((char) c) : (char) c;
            if (cleanText && BertNormalizer.isRemovedByCleanText(c)) asciiClass[c] = DROP;
            else if (BertNormalizer.isWhitespace(c)) asciiClass[c] = SPACE;
            else if (BertNormalizer.isPunctuation(c)) asciiClass[c] = PUNCT;
            else asciiClass[c] = WORD;
        }
    }

    /** The normalized form of a non-ASCII code point that clean_text keeps. */
    String normalized(int cp) {
        if (cp < 65536) {
            String s = bmp[cp];
            if (s == null) {
                s = normalizer.normalizeCodePoint(cp);
                bmp[cp] = s;
            }
            return s;
        }
        return normalizer.normalizeCodePoint(cp);
    }

    /** Class of a character of normalized text: how the pre-tokenizer treats it. */
    static byte classify(int cp) {
        if (BertNormalizer.isWhitespace(cp)) return SPACE;
        if (BertNormalizer.isPunctuation(cp)) return PUNCT;
        return WORD;
    }
}
