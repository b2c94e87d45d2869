package dev.bertj.tokenizer;

import java.text.Normalizer;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntFunction;

/**
 * What normalization plus pre-tokenization make of each character, precomputed for one
 * {@link BertNormalizer}: a table for ASCII and a lazily filled cache for the rest of the BMP.
 * Shared by all threads; cache entries are immutable Strings, so a racy fill is harmless.
 *
 * <p>Accent stripping is HF's NFD with Unicode 9.0 data (crate unicode-normalization-alignments),
 * then dropping Unicode 8.0 Mn. Java's NFD agrees for characters Unicode 9.0 assigns; later ones
 * are left alone, as HF leaves them.
 */
final class CharRules {
    static final byte WORD = 0, SPACE = 1, PUNCT = 2, DROP = 3;
    /** Marks a code point whose decomposition holds a combining mark, which may reorder with its neighbours. */
    static final String CLUSTER = new String("cluster");
    /** Combining classes 1 and 240, the lowest and highest used: probes that tell a non-starter. */
    private static final String LOW_PROBE = "\u0334", HIGH_PROBE = "\u0345";

    final BertNormalizer normalizer;
    final boolean cleanText;
    final boolean chinese;
    final boolean strip;
    /** Class of each ASCII char after normalization. */
    final byte[] asciiClass = new byte[128];
    /** Each ASCII char after normalization (lowercased when lowercasing). */
    final char[] asciiChar = new char[128];
    private final String[] bmp = new String[65536];

    CharRules(BertNormalizer normalizer) {
        this.normalizer = normalizer;
        this.cleanText = normalizer.cleanText();
        this.chinese = normalizer.handleChineseChars();
        this.strip = normalizer.effectiveStripAccents();
        for (int c = 0; c < 128; c++) {
            asciiChar[c] = normalizer.lowercase() ? Character.toLowerCase((char) c) : (char) c;
            if (cleanText && BertNormalizer.isRemovedByCleanText(c)) asciiClass[c] = DROP;
            else if (BertNormalizer.isWhitespace(c)) asciiClass[c] = SPACE;
            else if (BertNormalizer.isPunctuation(c)) asciiClass[c] = PUNCT;
            else asciiClass[c] = WORD;
        }
    }

    /**
     * The normalized form of a non-ASCII code point (strip accents, then lowercase), or
     * {@link #CLUSTER} when its decomposition holds a non-starter, which the caller must order
     * canonically with the marks around it (see {@link #decomposition} and {@link #reorders}).
     */
    String normalized(int cp) {
        if (cp < 65536) {
            String s = bmp[cp];
            if (s == null) {
                s = compute(cp);
                bmp[cp] = s;
            }
            return s;
        }
        return cached(astral, cp, this::compute);
    }

    /**
     * Caches for code points beyond the BMP, which real text uses few of (emoji, rare CJK). Capped,
     * so that a text of a million distinct astral characters cannot grow them without bound.
     */
    private static final int ASTRAL_CACHE_LIMIT = 1 << 14;
    private final ConcurrentHashMap<Integer, String> astral = new ConcurrentHashMap<>();
    private static final ConcurrentHashMap<Integer, String> ASTRAL_DECOMPOSITION = new ConcurrentHashMap<>();
    private static final ConcurrentHashMap<Integer, Boolean> ASTRAL_NON_STARTER = new ConcurrentHashMap<>();
    /**
     * Per BMP code point, filled on first use (a racy fill writes equal values; Strings are safe to
     * publish so): its NFD, and 1/2 for starter/non-starter.
     */
    private static final String[] BMP_DECOMPOSITION = new String[65536];
    private static final byte[] BMP_NON_STARTER = new byte[65536];

    private static <V> V cached(ConcurrentHashMap<Integer, V> cache, int cp, IntFunction<V> f) {
        V v = cache.get(cp);
        if (v != null) return v;
        v = f.apply(cp);
        if (cache.size() < ASTRAL_CACHE_LIMIT) cache.put(cp, v);
        return v;
    }

    private String compute(int cp) {
        if (!strip) return normalizer.lowercase() ? BertNormalizer.lowercase(Character.toString(cp)) : Character.toString(cp);
        StringBuilder out = new StringBuilder();
        String dec = decomposition(cp);
        for (int k = 0; k < dec.length(); ) {
            int d = dec.codePointAt(k);
            k += Character.charCount(d);
            if (isNonStarter(d)) return CLUSTER;
            out.append(finish(d));
        }
        return out.toString();
    }

    /** HF's NFD of one code point: Java's, except that characters Unicode 9.0 lacks stay whole. */
    String decomposition(int cp) {
        if (cp >= 65536) return cached(ASTRAL_DECOMPOSITION, cp, CharRules::computeDecomposition);
        String d = BMP_DECOMPOSITION[cp];
        if (d == null) BMP_DECOMPOSITION[cp] = d = computeDecomposition(cp);
        return d;
    }

    private static String computeDecomposition(int cp) {
        String c = Character.toString(cp);
        return Unicode8.isAssignedIn9(cp) ? Normalizer.normalize(c, Normalizer.Form.NFD) : c;
    }

    /** A decomposed character after the remaining steps: "" if it is Mn, else lowercased if lowercasing. */
    String finish(int d) {
        if (Unicode8.isNonSpacingMark(d)) return "";
        String s = Character.toString(d);
        return normalizer.lowercase() ? BertNormalizer.lowercase(s) : s;
    }

    /** Whether a (decomposed) character has a non-zero canonical combining class in Unicode 9.0. */
    static boolean isNonStarter(int d) {
        if (d < 0x300) return false;
        if (d >= 65536) return cached(ASTRAL_NON_STARTER, d, CharRules::computeNonStarter);
        byte known = BMP_NON_STARTER[d];
        if (known == 0) BMP_NON_STARTER[d] = known = (byte) (computeNonStarter(d) ? 2 : 1);
        return known == 2;
    }

    private static boolean computeNonStarter(int d) {
        if (!Unicode8.isAssignedIn9(d)) return false;
        String c = Character.toString(d);
        // Canonical ordering moves c after a class-1 mark iff its class is above 1, and before a
        // class-240 mark iff its class is below 240: one of the two moves for every non-starter.
        return !Normalizer.normalize(c + LOW_PROBE, Normalizer.Form.NFD).equals(c + LOW_PROBE)
                || !Normalizer.normalize(HIGH_PROBE + c, Normalizer.Form.NFD).equals(HIGH_PROBE + c);
    }

    /** Whether canonical ordering puts non-starter {@code y} before non-starter {@code x}. */
    static boolean reorders(int x, int y) {
        String xy = Character.toString(x) + Character.toString(y);
        return !Normalizer.normalize(xy, Normalizer.Form.NFD).equals(xy);
    }

    /** Class of a character of normalized text: how the pre-tokenizer treats it. */
    static byte classify(int cp) {
        if (BertNormalizer.isWhitespace(cp)) return SPACE;
        if (BertNormalizer.isPunctuation(cp)) return PUNCT;
        return WORD;
    }
}
