package dev.bertj.tokenizer;

import java.util.List;

/** HF's WordPiece decoder: tokens back to text. */
final class Decoder {
    private Decoder() { }

    static String decode(List<String> tokens, String prefix, boolean cleanup) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < tokens.size(); i++) {
            String t = tokens.get(i);
            if (i != 0) {
                t = t.startsWith(prefix) ? t.substring(prefix.length()) : " " + t;
            }
            out.append(cleanup ? cleanup(t) : t);
        }
        return out.toString();
    }

    /** HF's clean_up_tokenization: no space before punctuation and in contractions. */
    static String cleanup(String s) {
        if (s.indexOf(' ') < 0) return s;
        return s.replace(" .", ".")
                .replace(" ?", "?")
                .replace(" !", "!")
                .replace(" ,", ",")
                .replace(" ' ", "'")
                .replace(" n't", "n't")
                .replace(" 'm", "'m")
                .replace(" do not", " don't")
                .replace(" 's", "'s")
                .replace(" 've", "'ve")
                .replace(" 're", "'re");
    }
}
