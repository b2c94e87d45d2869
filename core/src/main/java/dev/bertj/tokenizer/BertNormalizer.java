package dev.bertj.tokenizer;

import java.util.Locale;

/**
 * The settings of HF's {@code BertNormalizer} and the per-character rules it applies, in HF's order:
 * clean_text, then handle_chinese_chars, then strip_accents (NFD, drop Mn), then lowercase.
 *
 * <p>Character classes use Unicode 8.0 ({@link Unicode8}), because the oracle's crate does; the
 * JDK's tables are newer and disagree on characters assigned or re-categorised since.
 *
 * @param cleanText remove U+0000, U+FFFD and control/format/private-use characters; whitespace becomes a space
 * @param handleChineseChars put spaces around CJK ideographs, so each is a word
 * @param stripAccents NFD, then drop non-spacing marks; {@code null} means "same as lowercase"
 * @param lowercase full per-code-point Unicode lowercasing (İ becomes i + U+0307)
 */
public record BertNormalizer(boolean cleanText, boolean handleChineseChars, Boolean stripAccents, boolean lowercase) {

    /** bert-base-uncased: everything on. */
    public static final BertNormalizer UNCASED = new BertNormalizer(true, true, null, true);
    /** bert-base-cased: no lowercasing and, by default, no accent stripping. */
    public static final BertNormalizer CASED = new BertNormalizer(true, true, null, false);

    /** Whether accents are stripped: the explicit setting, else {@link #lowercase}. */
    public boolean effectiveStripAccents() {
        return stripAccents != null ? stripAccents : lowercase;
    }

    /**
     * Rust's {@code char::is_whitespace} (the White_Space property), which the pre-tokenizer uses;
     * unlike {@link Character#isWhitespace} it includes U+00A0, U+2007 and U+202F.
     */
    public static boolean isWhitespace(int c) {
        if (c < 0x80) return c == ' ' || (c >= 0x09 && c <= 0x0D);
        return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A)
                || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
    }

    /** HF's is_bert_punc: ASCII punctuation or a Unicode 8.0 P* character. */
    public static boolean isPunctuation(int c) {
        if (c < 0x80) return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
        return Unicode8.isPunctuation(c);
    }

    /** HF's is_control: Unicode 8.0 "other" categories, but tab, newline and CR are whitespace. */
    public static boolean isControl(int c) {
        if (c == '\t' || c == '\n' || c == '\r') return false;
        return Unicode8.isOther(c);
    }

    /** Whether clean_text drops this character. */
    static boolean isRemovedByCleanText(int c) {
        return c == 0 || c == 0xFFFD || isControl(c);
    }

    /** CJK ideograph blocks as in HF's BertNormalizer (2B920 start, unlike the slow tokenizer's 2B820). */
    public static boolean isChineseChar(int c) {
        return (c >= 0x4E00 && c <= 0x9FFF)
                || (c >= 0x3400 && c <= 0x4DBF)
                || (c >= 0x20000 && c <= 0x2A6DF)
                || (c >= 0x2A700 && c <= 0x2B73F)
                || (c >= 0x2B740 && c <= 0x2B81F)
                || (c >= 0x2B920 && c <= 0x2CEAF)
                || (c >= 0xF900 && c <= 0xFAFF)
                || (c >= 0x2F800 && c <= 0x2FA1F);
    }

    /**
     * Per-code-point full lowercasing, like Rust's {@code char::to_lowercase}: no final-sigma or
     * locale rules (which {@link String#toLowerCase} applies to whole strings), but İ becomes
     * "i̇" (which {@link Character#toLowerCase(int)} maps to a single i).
     */
    static String lowercase(String s) {
        StringBuilder out = null;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            int n = Character.charCount(cp);
            String one = s.substring(i, i + n);
            String low = lowercaseNewer(cp);
            if (low == null) low = one.toLowerCase(Locale.ROOT);
            if (!low.equals(one) && out == null) out = new StringBuilder(s.substring(0, i));
            if (out != null) out.append(low);
            i += n;
        }
        return out == null ? s : out.toString();
    }

    /**
     * Case pairs of Unicode 17 (the oracle's Rust std) that JDK 25's Unicode 16 tables lack;
     * null for every other code point.
     */
    private static String lowercaseNewer(int cp) {
        if (cp == 0xA7CE || cp == 0xA7D2 || cp == 0xA7D4) return Character.toString(cp + 1);
        if (cp >= 0x16EA0 && cp <= 0x16EB8) return Character.toString(cp + 0x1B);
        return null;
    }
}
