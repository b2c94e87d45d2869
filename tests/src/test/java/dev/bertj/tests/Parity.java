package dev.bertj.tests;

import dev.bertj.tokenizer.EncodeOptions;
import dev.bertj.tokenizer.Encoding;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** Field-by-field comparison of a bertj {@link Encoding} with the oracle's. */
final class Parity {
    private Parity() { }

    /** Whether ids agree (cheap check for exhaustive sweeps). */
    static boolean sameIds(HfOracle.Enc want, Encoding got) {
        return Arrays.equals(want.ids(), toLong(got.ids()));
    }

    /** Asserts every field agrees, overflowing windows included; {@code what} names the input. */
    static void assertSame(String what, HfOracle.Enc want, Encoding got) {
        assertSame(what, want, got, true);
    }

    /**
     * Rust nests windows inside pair windows ((A1,B0) also holds (A1,B1)), but every nested window
     * is also in the top-level list, which is all HF's Python API and bertj expose: nested lists
     * are not compared.
     */
    private static void assertSame(String what, HfOracle.Enc want, Encoding got, boolean topLevel) {
        check(what, "input_ids", want.ids(), toLong(got.ids()));
        check(what, "token_type_ids", want.typeIds(), toLong(got.typeIds()));
        check(what, "attention_mask", want.attentionMask(), toLong(got.attentionMask()));
        check(what, "special_tokens_mask", want.specialTokensMask(), toLong(got.specialTokensMask()));
        check(what, "word_ids", want.wordIds(), toLong(got.wordIds()));
        if (!Arrays.equals(want.tokens(), got.tokens())) {
            fail(what + ": tokens differ\n  hf:    " + Arrays.toString(want.tokens()) + "\n  bertj: " + Arrays.toString(got.tokens()));
        }
        if (!Arrays.equals(want.offsetStart(), got.offsetStarts()) || !Arrays.equals(want.offsetEnd(), got.offsetEnds())) {
            fail(what + ": offsets differ\n  hf:    " + offsets(want.offsetStart(), want.offsetEnd())
                    + "\n  bertj: " + offsets(got.offsetStarts(), got.offsetEnds()) + "\n  tokens: " + Arrays.toString(got.tokens()));
        }
        if (!topLevel) return;
        assertEquals(want.overflowing().size(), got.overflowing().size(), what + ": number of overflowing windows");
        for (int i = 0; i < want.overflowing().size(); i++) {
            assertSame(what + " / overflowing[" + i + "]", want.overflowing().get(i), got.overflowing().get(i), false);
        }
    }

    private static void check(String what, String field, long[] want, long[] got) {
        if (!Arrays.equals(want, got)) {
            fail(what + ": " + field + " differ\n  hf:    " + Arrays.toString(want) + "\n  bertj: " + Arrays.toString(got));
        }
    }

    static long[] toLong(int[] a) {
        long[] r = new long[a.length];
        for (int i = 0; i < a.length; i++) r[i] = a[i];
        return r;
    }

    private static String offsets(int[] s, int[] e) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < s.length; i++) sb.append(i > 0 ? ", " : "").append('(').append(s[i]).append(',').append(e[i]).append(')');
        return sb.append(']').toString();
    }

    /** The oracle configured like these bertj options. */
    static HfOracle oracle(EncodeOptions o, boolean cased) {
        return HfOracle.builder().cased(cased).addSpecialTokens(o.addSpecialTokens())
                .truncation(HfOracle.Truncation.valueOf(o.truncation().name()))
                .maxLength(o.maxLength())
                .stride(o.stride())
                .padding(HfOracle.Padding.valueOf(o.padding().name()))
                .padToMultipleOf(o.padToMultipleOf())
                .paddingSide(o.paddingSide() == EncodeOptions.PaddingSide.LEFT ? HfOracle.Side.LEFT : HfOracle.Side.RIGHT)
                .build();
    }

    /** Printable form of a string for failure messages: code points in hex. */
    static String show(String s) {
        StringBuilder sb = new StringBuilder("\"");
        s.codePoints().limit(60).forEach(c -> {
            if (c >= 0x20 && c < 0x7F) sb.appendCodePoint(c);
            else sb.append(String.format("\\u{%X}", c));
        });
        if (s.codePointCount(0, s.length()) > 60) sb.append("...");
        return sb.append('"').toString();
    }
}
