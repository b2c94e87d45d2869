package dev.bertj.tests;

import dev.bertj.tokenizer.BertTokenizer;
import dev.bertj.tokenizer.EncodeOptions;
import dev.bertj.tokenizer.EncodeOptions.Padding;
import dev.bertj.tokenizer.EncodeOptions.PaddingSide;
import dev.bertj.tokenizer.EncodeOptions.Truncation;
import dev.bertj.tokenizer.Encoding;
import dev.bertj.tokenizer.TokenizerException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Seeded random strings built to hit the tricky paths (accents, combining-mark clusters, CJK,
 * astral characters, controls, Unicode whitespace and punctuation, special tokens written in the
 * text, long words), and pairs under every truncation strategy and padding mode.
 */
class RandomParityTest {
    static final String[] WORDS = {"the", "Tokenization", "BUAN6342", "running", "unaffable", "naïve", "café", "ÉCOLE",
            "İstanbul", "straße", "ΟΔΟΣ", "中文", "日本語", "한국어", "😀", "👩‍💻", "[SEP]", "[CLS]", "[MASK]", "[PAD]", "[UNK]",
            "[sep]", "don't", "e-mail", "http://x.y/z?a=1", "$100.00", "ﬁ", "Ⅻ", "x²", "Ǆ", "ᾼ", "ﬀ", "\u1E9E"};
    static final String[] SEPS = {" ", "  ", "\t", "\n", "\r\n", "\u00A0", "\u3000", "\u2028", "\u200B", "\u0085", "", ",", ".", "!?", "\u00AD"};
    static final int[] MARKS = {0x0300, 0x0301, 0x0323, 0x0345, 0x0334, 0x05B0, 0x0E48, 0x093C, 0x1D165, 0x1D16D, 0x08D4, 0x1E944, 0x0D3B, 0x20D2};

    static String randomText(Random r) {
        StringBuilder sb = new StringBuilder();
        int n = 1 + r.nextInt(24);
        for (int i = 0; i < n; i++) {
            switch (r.nextInt(10)) {
                case 0, 1, 2, 3 -> sb.append(WORDS[r.nextInt(WORDS.length)]);
                case 4 -> { // a base with a cluster of marks in random order
                    sb.append((char) ('a' + r.nextInt(26)));
                    for (int k = r.nextInt(4); k >= 0; k--) sb.appendCodePoint(MARKS[r.nextInt(MARKS.length)]);
                }
                case 5 -> { // any code point at all
                    int cp;
                    do cp = r.nextInt(0x110000); while (cp >= 0xD800 && cp <= 0xDFFF);
                    sb.appendCodePoint(cp);
                }
                case 6 -> { // any BMP code point
                    int cp;
                    do cp = r.nextInt(0x10000); while (cp >= 0xD800 && cp <= 0xDFFF);
                    sb.appendCodePoint(cp);
                }
                case 7 -> sb.append("x".repeat(90 + r.nextInt(20))); // around the 100-char [UNK] limit
                case 8 -> sb.append((char) r.nextInt(0x80));
                default -> sb.append(Integer.toString(r.nextInt(1_000_000), 36));
            }
            sb.append(SEPS[r.nextInt(SEPS.length)]);
        }
        return sb.toString();
    }

    @Test
    void hundredThousandRandomStrings() throws IOException {
        Random r = new Random(20261124);
        for (boolean cased : new boolean[] {false, true}) {
            BertTokenizer tok = BertTokenizer.fromPretrained(cased ? HfOracle.casedTokenizerJson() : HfOracle.uncasedTokenizerJson());
            try (HfOracle hf = HfOracle.builder().cased(cased).build()) {
                for (int chunk = 0; chunk < 25; chunk++) {
                    List<String> texts = new ArrayList<>();
                    for (int i = 0; i < 2000; i++) texts.add(randomText(r));
                    List<HfOracle.Enc> want = hf.batchEncode(texts);
                    List<Encoding> got = tok.encodeBatch(texts, EncodeOptions.NONE);
                    for (int i = 0; i < texts.size(); i++) {
                        Parity.assertSame("cased=" + cased + " " + Parity.show(texts.get(i)), want.get(i), got.get(i));
                    }
                }
            }
        }
    }

    @Test
    void pairsUnderEveryTruncationAndPaddingMode() throws IOException {
        BertTokenizer tok = BertTokenizer.fromPretrained(HfOracle.uncasedTokenizerJson());
        Random r = new Random(7);
        List<String> a = new ArrayList<>(), b = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            a.add(randomText(r));
            b.add(randomText(r));
        }
        int cases = 0;
        for (Truncation t : Truncation.values()) {
            for (Padding p : Padding.values()) {
                for (int maxLength : new int[] {5, 16, 128}) {
                    for (int stride : new int[] {0, 1, 3}) {
                        for (int multiple : new int[] {0, 8}) {
                            for (PaddingSide side : PaddingSide.values()) {
                                if (t == Truncation.NONE && stride > 0) continue;
                                // Side and multiple only act when padding.
                                if (p == Padding.NONE && (multiple > 0 || side == PaddingSide.LEFT)) continue;
                                if (t != Truncation.NONE && p != Padding.NONE && multiple > 0 && maxLength % multiple != 0) continue;
                                EncodeOptions o = EncodeOptions.builder().truncation(t).padding(p).maxLength(maxLength)
                                        .stride(stride).padToMultipleOf(multiple).paddingSide(side).build();
                                cases += compare(tok, o, a, b);
                                cases += compare(tok, o, a, null);
                            }
                        }
                    }
                }
            }
        }
        System.err.println("RandomParityTest: " + cases + " encodings compared across options");
    }

    /** Compares one batch; HF's errors must be bertj's errors. Returns how many encodings matched. */
    private static int compare(BertTokenizer tok, EncodeOptions o, List<String> a, List<String> b) {
        String what = o + (b == null ? " single" : " pair");
        HfOracle hf;
        try {
            hf = Parity.oracle(o, false);
        } catch (IllegalArgumentException hfRefuses) {
            // HF refuses this configuration (e.g. stride too large for the window): so must bertj.
            try {
                List<Encoding> got = b == null ? tok.encodeBatch(a, o) : tok.encodeBatch(a, b, o);
                if (!got.isEmpty()) fail(what + ": HF refuses (" + hfRefuses.getMessage() + ") but bertj encoded");
            } catch (TokenizerException expected) {
                return 0;
            }
            return 0;
        }
        try (hf) {
            int n = 0;
            for (int i = 0; i < a.size(); i++) {
                HfOracle.Enc want;
                try {
                    want = b == null ? hf.encode(a.get(i)) : hf.encode(a.get(i), b.get(i));
                } catch (RuntimeException hfError) {
                    int k = i;
                    try {
                        Encoding e = b == null ? tok.encode(a.get(k), null, o) : tok.encode(a.get(k), b.get(k), o);
                        fail(what + " item " + i + ": HF fails (" + hfError.getMessage() + ") but bertj gave " + e);
                    } catch (TokenizerException expected) {
                        continue;
                    }
                    continue;
                }
                Encoding got = b == null ? tok.encode(a.get(i), null, o) : tok.encode(a.get(i), b.get(i), o);
                if (o.padding() == Padding.LONGEST) continue; // batch padding is compared below
                Parity.assertSame(what + " item " + i, want, got);
                n++;
            }
            if (o.padding() == Padding.LONGEST) {
                List<HfOracle.Enc> want;
                try {
                    want = b == null ? hf.batchEncode(a) : hf.batchEncodePairs(a, b);
                } catch (RuntimeException hfError) {
                    return n;
                }
                List<Encoding> got = b == null ? tok.encodeBatch(a, o) : tok.encodeBatch(a, b, o);
                assertEquals(want.size(), got.size());
                for (int i = 0; i < got.size(); i++) Parity.assertSame(what + " batch item " + i, want.get(i), got.get(i));
                n += got.size();
            }
            return n;
        }
    }
}
