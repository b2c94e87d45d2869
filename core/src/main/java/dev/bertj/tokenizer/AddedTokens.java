package dev.bertj.tokenizer;

import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Added tokens (the special tokens, for BERT) matched in the raw text before normalization,
 * case-sensitively, leftmost-longest, as HF's AddedVocabulary does for tokens with
 * {@code normalized: false}.
 */
final class AddedTokens {
    /** One added token. */
    record Token(String content, int id) { }

    private final Token[] byLengthDesc;
    private final char[] firstChars;

    AddedTokens(List<Token> tokens) {
        byLengthDesc = tokens.stream().filter(t -> !t.content().isEmpty())
                .sorted(Comparator.comparingInt((Token t) -> t.content().length()).reversed())
                .toArray(Token[]::new);
        StringBuilder firsts = new StringBuilder();
        for (Token t : byLengthDesc) {
            char f = t.content().charAt(0);
            if (firsts.indexOf(String.valueOf(f)) < 0) firsts.append(f);
        }
        firstChars = firsts.toString().toCharArray();
    }

    /**
     * Splits {@code text} into added tokens and the stretches between them, which go to the
     * splitter.
     */
    void split(String text, WordSplitter splitter) {
        int n = text.length();
        int from = 0;
        if (firstChars.length == 0) {
            splitter.split(text, 0, n);
            return;
        }
        int[] next = new int[firstChars.length];
        Arrays.fill(next, -2);
        int pos = 0;
        while (true) {
            // The leftmost position where some added token could start.
            int cand = Integer.MAX_VALUE;
            for (int k = 0; k < firstChars.length; k++) {
                if (next[k] != -1 && next[k] < pos) next[k] = text.indexOf(firstChars[k], pos);
                if (next[k] >= 0 && next[k] < cand) cand = next[k];
            }
            if (cand == Integer.MAX_VALUE) break;
            Token match = null;
            for (Token t : byLengthDesc) {
                if (text.startsWith(t.content(), cand)) {
                    match = t;
                    break;
                }
            }
            if (match == null) {
                pos = cand + 1;
                continue;
            }
            if (cand > from) splitter.split(text, from, cand);
            splitter.addWholeToken(match.id(), cand, cand + match.content().length());
            from = pos = cand + match.content().length();
        }
        if (from < n) splitter.split(text, from, n);
    }
}
