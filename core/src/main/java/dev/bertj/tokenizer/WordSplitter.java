package dev.bertj.tokenizer;

import java.util.Arrays;

/**
 * Normalizer, pre-tokenizer and WordPiece fused into one pass over the original text, keeping
 * each normalized char's source range so offsets index the caller's String. One instance per
 * thread: it owns reusable buffers.
 */
final class WordSplitter {
    private final CharRules rules;
    private final WordPiece wordPiece;

    private char[] word = new char[64];
    private int[] starts = new int[64];
    private int[] ends = new int[64];
    private int len;
    private int codePoints;
    private int wordIndex;
    private TokenBuffer out;
    // Combining marks waiting for canonical ordering (accent stripping only).
    private int[] marks = new int[8];
    private int[] markStarts = new int[8];
    private int[] markEnds = new int[8];
    private int nMarks;

    WordSplitter(CharRules rules, WordPiece wordPiece) {
        this.rules = rules;
        this.wordPiece = wordPiece;
    }

    /**
     * Starts a new text; word indices restart at 0. Every piece of per-text state is reset here, not
     * at the end of {@link #split}: a text abandoned by an exception (a lone surrogate) leaves its
     * half-built word and pending combining marks behind, and they must not leak into the next text.
     */
    void begin(TokenBuffer out) {
        this.out = out;
        this.wordIndex = 0;
        this.len = 0;
        this.codePoints = 0;
        this.nMarks = 0;
    }

    /** Emits a token that is a word of its own (an added/special token found in the raw text). */
    void addWholeToken(int id, int start, int end) {
        out.add(id, wordIndex++, start, end);
    }

    /** Tokenizes {@code text[from, to)}, which holds no added tokens. */
    void split(String text, int from, int to) {
        final byte[] cls = rules.asciiClass;
        final char[] low = rules.asciiChar;
        int i = from;
        while (i < to) {
            char c = text.charAt(i);
            if (c < 128) {
                if (nMarks > 0) flushMarks();
                switch (cls[c]) {
                    case CharRules.WORD -> append(low[c], i, i + 1);
                    case CharRules.SPACE -> flush();
                    case CharRules.PUNCT -> {
                        flush();
                        append(low[c], i, i + 1);
                        flush();
                    }
                    default -> { } // dropped by clean_text
                }
                i++;
                continue;
            }
            int cp = c;
            int n = 1;
            if (Character.isSurrogate(c)) {
                if (Character.isHighSurrogate(c) && i + 1 < to && Character.isLowSurrogate(text.charAt(i + 1))) {
                    cp = Character.toCodePoint(c, text.charAt(i + 1));
                    n = 2;
                } else {
                    throw new TokenizerException(String.format(
                            "text has a lone surrogate U+%04X at index %d; it is not valid Unicode text", (int) c, i));
                }
            }
            nonAscii(cp, i, i + n);
            i += n;
        }
        if (nMarks > 0) flushMarks();
        flush();
    }

    private void nonAscii(int cp, int start, int end) {
        if (rules.cleanText && BertNormalizer.isRemovedByCleanText(cp)) return;
        boolean own = rules.chinese && BertNormalizer.isChineseChar(cp);
        String norm = rules.normalized(cp);
        if (norm == CharRules.CLUSTER) {
            // NFD runs over the whole text, so marks from this character and its neighbours are
            // put in canonical order before Mn are dropped.
            String dec = rules.decomposition(cp);
            for (int k = 0; k < dec.length(); ) {
                int d = dec.codePointAt(k);
                k += Character.charCount(d);
                if (CharRules.isNonStarter(d)) {
                    addMark(d, start, end);
                } else {
                    if (nMarks > 0) flushMarks();
                    emit(rules.finish(d), start, end);
                }
            }
            return;
        }
        if (nMarks > 0) flushMarks();
        if (own) flush();
        emit(norm, start, end);
        if (own) flush();
    }

    /** Feeds normalized characters to the pre-tokenizer: whitespace splits, punctuation stands alone. */
    private void emit(String norm, int start, int end) {
        for (int k = 0; k < norm.length(); ) {
            int d = norm.codePointAt(k);
            k += Character.charCount(d);
            switch (CharRules.classify(d)) {
                case CharRules.SPACE -> flush();
                case CharRules.PUNCT -> {
                    flush();
                    appendCodePoint(d, start, end);
                    flush();
                }
                default -> appendCodePoint(d, start, end);
            }
        }
    }

    private void addMark(int d, int start, int end) {
        if (nMarks == marks.length) {
            marks = Arrays.copyOf(marks, nMarks * 2);
            markStarts = Arrays.copyOf(markStarts, nMarks * 2);
            markEnds = Arrays.copyOf(markEnds, nMarks * 2);
        }
        marks[nMarks] = d;
        markStarts[nMarks] = start;
        markEnds[nMarks] = end;
        nMarks++;
    }

    /**
     * Canonical ordering (a stable sort by combining class), then the rest of normalization.
     * Only the characters move: like HF's alignment-tracking NFD, the source ranges stay in
     * positional order.
     */
    private void flushMarks() {
        int n = nMarks;
        nMarks = 0;
        canonicalOrder(marks, n);
        for (int i = 0; i < n; i++) emit(rules.finish(marks[i]), markStarts[i], markEnds[i]);
    }

    /** Runs up to this long are sorted by insertion, which costs quadratic comparisons in the worst case. */
    private static final int SHORT_RUN = 16;

    /**
     * Sorts the non-starters {@code marks[0, n)} stably by canonical combining class, as NFD's canonical
     * ordering does. Real text has a few marks per base character; a run of thousands ("Zalgo" text,
     * or a hostile input alternating two classes) would make insertion sort quadratic, each comparison
     * a normalization, so longer runs rank their distinct marks once and are placed by a counting sort:
     * O(n log n) in the run, with normalizations only for the distinct marks.
     */
    static void canonicalOrder(int[] marks, int n) {
        if (n <= SHORT_RUN) {
            for (int i = 1; i < n; i++) {
                for (int j = i; j > 0 && CharRules.reorders(marks[j - 1], marks[j]); j--) {
                    int t = marks[j];
                    marks[j] = marks[j - 1];
                    marks[j - 1] = t;
                }
            }
            return;
        }
        // The distinct marks, by code point, then ranked by combining class (equal classes share a rank).
        int[] byCp = Arrays.copyOf(marks, n);
        Arrays.sort(byCp);
        int d = 0;
        for (int i = 0; i < n; i++) if (d == 0 || byCp[d - 1] != byCp[i]) byCp[d++] = byCp[i];
        byCp = Arrays.copyOf(byCp, d);
        Integer[] byClass = new Integer[d];
        for (int i = 0; i < d; i++) byClass[i] = byCp[i];
        // reorders(x, y) holds exactly when x's class is above y's: a consistent comparator.
        Arrays.sort(byClass, (x, y) -> CharRules.reorders(x, y) ? 1 : CharRules.reorders(y, x) ? -1 : 0);
        int[] rankOfCp = new int[d];
        int rank = 0;
        for (int i = 0; i < d; i++) {
            if (i > 0 && CharRules.reorders(byClass[i], byClass[i - 1])) rank++;
            rankOfCp[Arrays.binarySearch(byCp, byClass[i])] = rank;
        }
        // Stable counting sort by rank.
        int[] count = new int[rank + 2];
        int[] ranks = new int[n];
        for (int i = 0; i < n; i++) {
            ranks[i] = rankOfCp[Arrays.binarySearch(byCp, marks[i])];
            count[ranks[i] + 1]++;
        }
        for (int r = 1; r < count.length; r++) count[r] += count[r - 1];
        int[] sorted = new int[n];
        for (int i = 0; i < n; i++) sorted[count[ranks[i]]++] = marks[i];
        System.arraycopy(sorted, 0, marks, 0, n);
    }

    private void appendCodePoint(int cp, int start, int end) {
        if (cp < 65536) {
            append((char) cp, start, end);
        } else {
            append(Character.highSurrogate(cp), start, end);
            append(Character.lowSurrogate(cp), start, end);
            codePoints--; // two chars, one code point
        }
    }

    private void append(char c, int start, int end) {
        if (len == word.length) {
            int n = len * 2;
            word = Arrays.copyOf(word, n);
            starts = Arrays.copyOf(starts, n);
            ends = Arrays.copyOf(ends, n);
        }
        word[len] = c;
        starts[len] = start;
        ends[len] = end;
        len++;
        codePoints++;
    }

    private void flush() {
        if (len == 0) return;
        wordPiece.tokenize(word, len, codePoints, starts, ends, wordIndex++, out);
        len = 0;
        codePoints = 0;
    }
}
