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
 * <p>A whole word is first looked up with one hash probe (most words in real text are tokens);
 * otherwise one walk of {@link PieceTrie} finds each longest piece. No substring, no allocation.
 */
final class WordPiece {
    private final Vocab vocab;
    private final int unkId;
    private final int maxInputCharsPerWord;
    private final int maxPieceChars;
    private final PieceTrie trie;

    // Per-word scratch, reused; WordPiece instances are per thread (see Workspace).
    private int[] pieceIds = new int[64];
    private int[] pieceEnds = new int[64];

    WordPiece(Vocab vocab, int unkId, int maxInputCharsPerWord) {
        this.vocab = vocab;
        this.unkId = unkId;
        this.maxInputCharsPerWord = maxInputCharsPerWord;
        this.maxPieceChars = vocab.maxTokenChars();
        this.trie = vocab.trie();
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
        // Fast path: the whole word is a token (most words in real text): one hash, one probe.
        if (len <= maxPieceChars) {
            int h = 0;
            for (int i = 0; i < len; i++) h = h * Vocab.HASH_BASE + chars[i];
            int id = vocab.find(chars, 0, len, h, false);
            if (id >= 0) {
                out.add(id, word, starts[0], ends[len - 1]);
                return;
            }
        }
        int n = 0;
        int start = 0;
        while (start < len) {
            // Walk the trie as far as the word allows; the last token node passed is the longest piece.
            int node = start > 0 ? PieceTrie.TAILS : PieceTrie.HEADS;
            int found = -1, end = -1;
            for (int i = start; i < len; i++) {
                node = trie.child(node, chars[i]);
                if (node < 0) break;
                int id = trie.tokenAt(node);
                if (id >= 0) {
                    found = id;
                    end = i + 1;
                }
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
