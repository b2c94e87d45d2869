package dev.bertj.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.bertj.tokenizer.BertTokenizer;
import dev.bertj.tokenizer.EncodeOptions;
import dev.bertj.tokenizer.Encoding;
import dev.bertj.tokenizer.TokenizerException;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code BertTokenizer.encode} and {@code encodeBatch} over arbitrary strings (lone surrogates,
 * combining marks, special tokens in the text, CJK, astral characters) and arbitrary options. One
 * shared tokenizer takes every call, failing ones included; a second one, the oracle, takes only
 * the calls that succeeded, so any state a failure leaves behind shows as a difference. Every
 * result is also checked against its own invariants, a batch against its items encoded alone.
 */
class EncodeFuzzTest {
    static final List<String> TOKENS = List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
            "hello", "world", "un", "##aff", "##able", "wor", "##ld", "##s", "a", "b", "c", "e", "i", "x", "##a", "##b", "##c",
            "##e", "##x", "##i", "0", "1", "##0", "##1", "123", ",", ".", "!", "'", "-", "[", "]", "#", "\u00e9", "##\u00e9",
            "\u00df", "\u03c3", "\u4e2d", "\u6587", "\u302e", "##\u302e", "\ud834\udd65", "##\ud834\udd65", "\ud83d\ude00",
            "\ud840\udc00", "cafe", "naive");
    static final BertTokenizer SHARED = make();
    static final BertTokenizer ORACLE = make();
    static final String PROBE = "Hello wörld, \u302e\ud834\udd65 caf\u00e9 \u4e2d\u6587 [SEP] x";
    static final Encoding PROBE_EXPECTED = make().encode(PROBE, "na\u00efve", EncodeOptions.NONE);
    static final String[] PIECES = {"[CLS]", "[SEP]", "[PAD]", "[MASK]", "[UNK]", "[", "]", "##", " ", "  ", "\t", "\n",
        "\r\n", "\u00a0", "\u3000", "\u200b", "\u0000", "\ufffd", "\u0301", "\u0323", "\u302e", "\ud834\udd65", "\ud834\udd6d",
        "\ud800", "\udc00", "\u00e9", "\u00c9", "\u0130", "\u00df", "\u03a3", "\u4e2d", "\u6587", "\ud840\udc00",
        "\ud83d\ude00", "hello", "world", "un", "aff", "able", "HELLO", ",", ".", "!", "'", "-", "0", "123", "a", "b", "x"};

    static BertTokenizer make() {
        return BertTokenizer.builder().tokens(TOKENS).modelMaxLength(128).maxInputChars(1 << 16).build();
    }

    /** A text made of interesting pieces and arbitrary chars (surrogates included). */
    static String text(FuzzedDataProvider d, int maxPieces) {
        int n = d.consumeInt(0, maxPieces);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n && d.remainingBytes() > 0; i++) {
            int k = d.consumeInt(0, PIECES.length);
            if (k < PIECES.length) sb.append(PIECES[k]);
            else sb.append(d.consumeChar());
        }
        return sb.toString();
    }

    /** Usually a plausible length, sometimes any int at all (negative, huge). */
    static int length(FuzzedDataProvider d, int plausible) {
        return switch (d.consumeInt(0, 9)) {
            case 0 -> d.consumeInt();
            case 1 -> 0;
            default -> d.consumeInt(1, plausible);
        };
    }

    static EncodeOptions options(FuzzedDataProvider d) {
        return EncodeOptions.builder().addSpecialTokens(d.consumeInt(0, 4) > 0)
                .truncation(d.pickValue(EncodeOptions.Truncation.values()))
                .maxLength(length(d, 200)).stride(d.consumeBoolean() ? 0 : length(d, 20))
                .padding(d.pickValue(EncodeOptions.Padding.values()))
                .padToMultipleOf(d.consumeBoolean() ? 0 : length(d, 16))
                .paddingSide(d.pickValue(EncodeOptions.PaddingSide.values())).build();
    }

    @FuzzTest
    @Timeout(10)
    void encode(FuzzedDataProvider d) {
        EncodeOptions opts = Contract.expect(() -> options(d), null, TokenizerException.class);
        if (opts == null) return;
        boolean batch = d.consumeBoolean();
        int n = batch ? d.consumeInt(0, d.consumeInt(0, 15) == 0 ? 80 : 4) : 1;
        boolean withPairs = d.consumeBoolean();
        List<String> texts = new ArrayList<>(), pairs = withPairs ? new ArrayList<>() : null;
        long chars = 0;
        for (int i = 0; i < n; i++) {
            texts.add(text(d, 40));
            if (withPairs) pairs.add(d.consumeInt(0, 5) == 0 ? null : text(d, 40));
            chars += texts.get(i).length() + (withPairs && pairs.get(i) != null ? pairs.get(i).length() : 0);
        }
        long before = Contract.allocated();
        List<Encoding> out = Contract.expect(() -> batch ? SHARED.encodeBatch(texts, pairs, opts)
                : List.of(SHARED.encode(texts.get(0), withPairs ? pairs.get(0) : null, opts)), null, TokenizerException.class);
        long tokens = 0;
        if (out != null) for (Encoding e : out) for (Encoding w : withWindows(e)) tokens += w.length();
        // Scratch per char of input, and the encodings themselves (seven int arrays per token, copied once).
        Contract.allocationWithin(before, Contract.BASE_ALLOWANCE + 4096L * chars + 64L * tokens, "encode");
        if (out == null) {
            assertEquals(PROBE_EXPECTED, SHARED.encode(PROBE, "na\u00efve", EncodeOptions.NONE), "a failed call changed a later result");
            return;
        }
        List<Encoding> oracle = batch ? ORACLE.encodeBatch(texts, pairs, opts)
                : List.of(ORACLE.encode(texts.get(0), withPairs ? pairs.get(0) : null, opts));
        assertEquals(oracle, out, "differs from a tokenizer that saw no failed call");
        for (int i = 0; i < out.size(); i++) checkEncoding(SHARED, out.get(i), texts.get(i), withPairs ? pairs.get(i) : null, opts);
        if (batch && opts.padding() == EncodeOptions.Padding.NONE) {
            for (int i = 0; i < out.size(); i++) {
                assertEquals(SHARED.encode(texts.get(i), withPairs ? pairs.get(i) : null, opts), out.get(i), "batch item " + i + " alone");
            }
        }
    }

    static List<Encoding> withWindows(Encoding e) {
        List<Encoding> all = new ArrayList<>(List.of(e));
        all.addAll(e.overflowing());
        return all;
    }

    /** The text with everything outside printable ASCII as Java escapes, for messages. */
    static String escape(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) sb.append(c >= 32 && c < 127 ? String.valueOf(c) : String.format("\\u%04x", (int) c));
        return sb.append('"').toString();
    }

    /** Whether the main encoding holds no token of its text or of its pair (truncated to nothing). */
    static boolean emptySide(Encoding top, String pair) {
        int[] types = top.typeIds(), special = top.specialTokensMask(), mask = top.attentionMask();
        int[] count = new int[2];
        for (int i = 0; i < types.length; i++) if (special[i] == 0 && mask[i] == 1) count[Math.min(types[i], 1)]++;
        return count[0] == 0 || pair != null && count[1] == 0;
    }

    /** Invariants of an encoding and its windows: aligned arrays, ids in range, offsets inside their text, lengths. */
    static void checkEncoding(BertTokenizer tok, Encoding top, String text, String pair, EncodeOptions opts) {
        // Type ids tell the sides apart except for BertProcessing without special tokens (all 0): then the
        // offsets are only checked against the longer text.
        boolean typesMarkSides = opts.addSpecialTokens()
                || tok.encode("a", "a", EncodeOptions.builder().addSpecialTokens(false).build()).typeIds()[1] == 1;
        for (Encoding e : withWindows(top)) {
            int n = e.length();
            int[] ids = e.ids(), types = e.typeIds(), mask = e.attentionMask(), special = e.specialTokensMask(),
                    words = e.wordIds(), st = e.offsetStarts(), en = e.offsetEnds();
            for (int[] a : new int[][] {types, mask, special, words, st, en}) assertEquals(n, a.length, "aligned arrays");
            if (e != top) assertTrue(e.overflowing().isEmpty(), "windows have no windows");
            int real = 0;
            for (int i = 0; i < n; i++) {
                tok.idToToken(ids[i]); // throws when out of range
                assertTrue(mask[i] == 0 || mask[i] == 1, "mask");
                real += mask[i];
                assertEquals(special[i] == 1, words[i] == -1, "word id -1 exactly at special and padding tokens");
                if (mask[i] == 0) assertEquals(tok.specialTokens().padId(), ids[i], "padding id");
                if (special[i] == 1) {
                    assertEquals(0, st[i] + en[i], "special tokens have offsets (0, 0)");
                    continue;
                }
                String src = pair == null ? text : types[i] == 1 ? pair : typesMarkSides ? text : text.length() >= pair.length() ? text : pair;
                assertTrue(0 <= st[i] && st[i] < en[i] && en[i] <= src.length(), "offsets " + st[i] + ".." + en[i]);
                int at = i;
                assertTrue(!Character.isLowSurrogate(src.charAt(st[i])) || st[i] == 0 || !Character.isHighSurrogate(src.charAt(st[i] - 1)),
                        () -> "token " + at + " starts inside a surrogate pair: " + escape(src) + " " + java.util.Arrays.toString(st)
                                + java.util.Arrays.toString(en) + " " + opts);
            }
            for (int i = 1; i < n; i++) {
                boolean left = opts.paddingSide() == EncodeOptions.PaddingSide.LEFT;
                assertTrue(left ? mask[i] >= mask[i - 1] : mask[i] <= mask[i - 1], "padding on one side only");
            }
            int max = opts.maxLength() > 0 ? opts.maxLength() : tok.modelMaxLength();
            // As HF's Encoding::truncate with max_len 0: a side truncated to nothing (the special tokens take all
            // of max_length, or longest_first gives one side 0 of 1) moves whole into the overflowing windows.
            if (opts.truncation() != EncodeOptions.Truncation.NONE && !(e != top && emptySide(top, pair))) {
                assertTrue(real <= max, real + " tokens > max_length " + max);
            }
            if (opts.padding() == EncodeOptions.Padding.MAX_LENGTH) {
                int m = opts.padToMultipleOf(), target = m > 0 && max % m != 0 ? max + m - max % m : max;
                assertEquals(Math.max(real, target), n, "padded length");
            }
        }
    }
}
