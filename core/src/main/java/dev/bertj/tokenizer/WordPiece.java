package dev.bertj.tokenizer;

/**
 * Greedy longest-match-first WordPiece, as in HF tokenizers' {@code models/wordpiece}.
 *
 * <pre>
 * start = 0
 * while start &lt; len(word):
 *     end = longest piece word[start:end] (prefixed by "##" unless start == 0) in the vocab
 *     if none: the whole word is [UNK]
 *     emit piece; start = end
 * a word of more than maxInputCharsPerWord code points is [UNK]
 * </pre>
 *
 * <p>Candidate pieces are hashed in O(1) each from prefix hashes of the word, so trying the
 * longest piece first costs no substring and no allocation.
 */
final class WordPiece {
    private final Vocab vocab;
    private final int unkId;
    private final int maxInputCharsPerWord;
    private final int maxPieceChars;
    private final int[] pow;

    // Per-word scratch, reused; WordPiece instances are per thread (see Workspace).
    private int[] prefix = new int[128];
    private int[] pieceIds = new int[64];
    private int[] pieceEnds = new int[64];

    WordPiece(Vocab vocab, int unkId, int maxInputCharsPerWord) {
        this.vocab = vocab;
        this.unkId = unkId;
        this.maxInputCharsPerWord = maxInputCharsPerWord;
        this.maxPieceChars = vocab.maxTokenChars();
        this.pow = new int[maxPieceChars + 1];
        pow[0] = 1;
        for (int i = 1; i < pow.length; i++) pow[i] = pow[i - 1] * Vocab.HASH_BASE;
    }

    /**
     * Tokenizes the normalized word {@code chars[0, len)} of {@code codePoints} code points; each
     * char's source range in the original text is {@code starts[i], ends[i]}.
     */
    void tokenize(char[] chars, int len, int codePoints, int[] starts, int[] ends, int word, TokenBuffer out) {
        if (codePoints > maxInputCharsPerWord) {
            out.add(unkId, word, starts[0], ends[len - 1]);
            return;
        }
        if (prefix.length <= len) prefix = new int[Math.max(len + 1, prefix.length * 2)];
        int h = 0;
        prefix[0] = 0;
        for (int i = 0; i < len; i++) {
            h = h * Vocab.HASH_BASE + chars[i];
            prefix[i + 1] = h;
        }
        // Fast path: the whole word is a token (most words in real text).
        if (len <= maxPieceChars) {
            int id = vocab.find(chars, 0, len, h, false);
            if (id >= 0) {
                out.add(id, word, starts[0], ends[len - 1]);
                return;
            }
        }
        int n = 0;
        int start = 0;
        while (start < len) {
            boolean tail = start > 0;
            int end = Math.min(len, start + maxPieceChars);
            if (end < len && Character.isLowSurrogate(chars[end])) end--;
            int found = -1;
            while (end > start) {
                int ph = prefix[end] - prefix[start] * pow[end - start];
                found = vocab.find(chars, start, end, ph, tail);
                if (found >= 0) break;
                end--;
                if (end > start && Character.isLowSurrogate(chars[end])) end--;
            }
            if (found < 0) {
                out.add(unkId, word, starts[0], ends[len - 1]);
                return;
            }
            if (n == pieceIds.length) {
                pieceIds = java.util.Arrays.copyOf(pieceIds, n * 2);
                pieceEnds = java.util.Arrays.copyOf(pieceEnds, n * 2);
            }
            pieceIds[n] = found;
            pieceEnds[n] = end;
            n++;
            start = end;
        }
        int pieceStart = 0;
        for (int i = 0; i < n; i++) {
            out.add(pieceIds[i], word, starts[pieceStart], ends[pieceEnds[i] - 1]);
            pieceStart = pieceEnds[i];
        }
    }
}
