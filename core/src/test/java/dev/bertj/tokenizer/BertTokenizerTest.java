package dev.bertj.tokenizer;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Unit tests on a tiny vocabulary. Expected values follow by hand from the algorithms as HF's
 * tokenizers source defines them (greedy longest-match WordPiece, truncate_encodings, pad); the
 * parity tests in the {@code tests} module check the same code against HF itself.
 */
class BertTokenizerTest {
    static final List<String> TOKENS = List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
            "un", "##aff", "##able", "runn", "##ing", "a", "b", "##b", ",", "!", "hello", "world", "i", "##i");
    static final BertTokenizer TOK = BertTokenizer.builder().tokens(TOKENS).modelMaxLength(16).build();

    private static List<String> tokens(Encoding e) {
        return List.of(e.tokens());
    }

    @Test
    void greedyLongestMatchFirst() {
        assertEquals(List.of("[CLS]", "un", "##aff", "##able", ",", "runn", "##ing", "!", "[SEP]"),
                tokens(TOK.encode("UNaffable, running!")));
    }

    @Test
    void wordWithAnUnmatchablePieceIsOneUnk() {
        // "unaffx": un ##aff then "x" cannot match, so the whole word is [UNK] (not un ##aff [UNK]).
        Encoding e = TOK.encode("hello unaffx");
        assertEquals(List.of("[CLS]", "hello", "[UNK]", "[SEP]"), tokens(e));
        assertEquals(6, e.offsetStarts()[2]);
        assertEquals(12, e.offsetEnds()[2]);
    }

    @Test
    void wordOverOneHundredCodePointsIsUnk() {
        String hundred = "b".repeat(100);
        assertEquals(102, TOK.encode(hundred).length(), "100 b's: [CLS] b, 99 x ##b, [SEP]");
        assertEquals(List.of("[CLS]", "[UNK]", "[SEP]"), tokens(TOK.encode(hundred + "b")));
        // Code points, not chars: 100 astral letters are 200 chars but still one word of 100.
        String astral = "\uD835\uDC1A".repeat(101); // MATHEMATICAL BOLD SMALL A, not in the vocab anyway
        assertEquals(List.of("[CLS]", "[UNK]", "[SEP]"), tokens(TOK.encode(astral)));
    }

    @Test
    void specialTokensInRawTextAreMatchedCaseSensitively() {
        Encoding e = TOK.encode("a[SEP]b [sep]");
        assertEquals(List.of("[CLS]", "a", "[SEP]", "b", "[UNK]", "[UNK]", "[UNK]", "[SEP]"), tokens(e));
        assertArrayEquals(new int[] {-1, 0, 1, 2, 3, 4, 5, -1}, e.wordIds());
        assertArrayEquals(new int[] {1, 0, 0, 0, 0, 0, 0, 1}, e.specialTokensMask());
    }

    @Test
    void offsetsIndexTheOriginalString() {
        String text = "  Héllo,\tWORLD ";
        Encoding e = TOK.encode(text, null, EncodeOptions.builder().addSpecialTokens(false).build());
        assertEquals(List.of("hello", ",", "world"), tokens(e));
        int[] s = e.offsetStarts(), en = e.offsetEnds();
        assertEquals("Héllo", text.substring(s[0], en[0]));
        assertEquals(",", text.substring(s[1], en[1]));
        assertEquals("WORLD", text.substring(s[2], en[2]));
    }

    @Test
    void pairsGetTypeIdsAndPerSequenceOffsets() {
        Encoding e = TOK.encode("hello", "world a");
        assertEquals(List.of("[CLS]", "hello", "[SEP]", "world", "a", "[SEP]"), tokens(e));
        assertArrayEquals(new int[] {0, 0, 0, 1, 1, 1}, e.typeIds());
        assertArrayEquals(new int[] {0, 0, 0, 0, 6, 0}, e.offsetStarts());
        assertArrayEquals(new int[] {-1, 0, -1, 0, 1, -1}, e.wordIds());
    }

    @Test
    void longestFirstSplitsTheBudgetFloorCeil() {
        // Pair of 6 and 5 tokens at max_length 9: budget 6, both longer than 3, so 3 and 3.
        EncodeOptions o = EncodeOptions.builder().truncation(EncodeOptions.Truncation.LONGEST_FIRST).maxLength(9).build();
        Encoding e = TOK.encode("a a a a a a", "b b b b b", o);
        assertEquals(9, e.length());
        assertEquals(List.of("[CLS]", "a", "a", "a", "[SEP]", "b", "b", "b", "[SEP]"), tokens(e));
        // 2 and 7 at max_length 8: the short side keeps 2, the long side gets 8 - 3 - 2 = 3.
        Encoding f = TOK.encode("a a", "b b b b b b b", o.toBuilder().maxLength(8).build());
        assertEquals(List.of("[CLS]", "a", "a", "[SEP]", "b", "b", "b", "[SEP]"), tokens(f));
    }

    @Test
    void strideMakesOverflowingWindows() {
        // 7 tokens, max_length 6 -> 4 per window, stride 2 -> step 2: [0,4) [2,6) [4,7).
        EncodeOptions o = EncodeOptions.builder().truncation(EncodeOptions.Truncation.LONGEST_FIRST).maxLength(6).stride(2).build();
        Encoding e = TOK.encode("a b a b a b a", null, o);
        assertEquals(List.of("[CLS]", "a", "b", "a", "b", "[SEP]"), tokens(e));
        assertEquals(2, e.overflowing().size());
        assertEquals(List.of("[CLS]", "a", "b", "a", "b", "[SEP]"), tokens(e.overflowing().get(0)));
        assertEquals(List.of("[CLS]", "a", "b", "a", "[SEP]"), tokens(e.overflowing().get(1)));
    }

    @Test
    void onlySecondWithoutPairIsAnError() {
        EncodeOptions o = EncodeOptions.builder().truncation(EncodeOptions.Truncation.ONLY_SECOND).maxLength(3).build();
        TokenizerException ex = assertThrows(TokenizerException.class, () -> TOK.encode("a a a a", null, o));
        assertTrue(ex.getMessage().contains("only_second"), ex.getMessage());
    }

    @Test
    void paddingRightLeftAndMultiple() {
        EncodeOptions right = EncodeOptions.builder().padding(EncodeOptions.Padding.LONGEST).padToMultipleOf(4).build();
        List<Encoding> b = TOK.encodeBatch(List.of("a", "a b a b a"), right);
        assertEquals(8, b.get(0).length());
        assertArrayEquals(new int[] {2, 10, 3, 0, 0, 0, 0, 0}, b.get(0).ids());
        assertArrayEquals(new int[] {1, 1, 1, 0, 0, 0, 0, 0}, b.get(0).attentionMask());
        assertArrayEquals(new int[] {1, 0, 1, 1, 1, 1, 1, 1}, b.get(0).specialTokensMask());
        EncodeOptions left = right.toBuilder().paddingSide(EncodeOptions.PaddingSide.LEFT).padToMultipleOf(0).build();
        Encoding l = TOK.encodeBatch(List.of("a", "a b a"), left).get(0);
        assertArrayEquals(new int[] {0, 0, 2, 10, 3}, l.ids());
        assertArrayEquals(new int[] {0, 0, 1, 1, 1}, l.attentionMask());
        Encoding max = TOK.encode("a", null, EncodeOptions.builder().padding(EncodeOptions.Padding.MAX_LENGTH).build());
        assertEquals(16, max.length(), "max_length defaults to model_max_length");
    }

    @Test
    void collatorPadsToTheLongestAndCarriesLabels() {
        DataCollatorWithPadding c = new DataCollatorWithPadding(TOK);
        Batch b = c.collateExamples(List.of(new DataCollatorWithPadding.Example(TOK.encode("a"), 1),
                new DataCollatorWithPadding.Example(TOK.encode("a b"), 0)));
        assertEquals(2, b.batchSize());
        assertEquals(4, b.seqLen());
        assertArrayEquals(new int[] {2, 10, 3, 0}, b.inputIds(0));
        assertArrayEquals(new int[] {1, 1, 1, 0}, b.attentionMask(0));
        assertArrayEquals(new int[] {1, 0}, b.labels());
    }

    @Test
    void decodeAndConvertTokensToString() {
        assertEquals("unaffable, running!", TOK.convertTokensToString(List.of("un", "##aff", "##able", ",", "runn", "##ing", "!")));
        int[] ids = TOK.encode("hello, world").ids();
        assertEquals("[CLS] hello, world [SEP]", TOK.decode(ids));
        assertEquals("hello, world", TOK.decode(ids, true));
    }

    @Test
    void badInputGetsClearErrors() {
        assertTrue(assertThrows(TokenizerException.class, () -> TOK.encode(null)).getMessage().contains("null"));
        String lone = assertThrows(TokenizerException.class, () -> TOK.encode("ab\uD800c")).getMessage();
        assertTrue(lone.contains("lone surrogate U+D800 at index 2"), lone);
        BertTokenizer small = BertTokenizer.builder().tokens(TOKENS).maxInputChars(1000).build();
        String big = assertThrows(TokenizerException.class, () -> small.encode("a".repeat(1001))).getMessage();
        assertTrue(big.contains("1,001 chars") && big.contains("maxInputChars"), big);
    }

    @Test
    void hundredMegabyteTextIsRefusedClearly() {
        String text = "a ".repeat(50 * 1024 * 1024);
        String msg = assertThrows(TokenizerException.class, () -> TOK.encode(text)).getMessage();
        assertTrue(msg.contains("104,857,600 chars"), msg);
    }

    @Test
    void vocabFilesAreValidated(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        Path dup = Files.writeString(dir.resolve("dup.txt"), "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\nhello\n");
        String m1 = assertThrows(TokenizerException.class, () -> BertTokenizer.fromPretrained(dup)).getMessage();
        assertTrue(m1.contains("dup.txt") && m1.contains("'hello' appears twice") && m1.contains("line 6 and 7"), m1);
        Path noUnk = Files.writeString(dir.resolve("nounk.txt"), "[PAD]\n[CLS]\n[SEP]\n[MASK]\nhello\n");
        String m2 = assertThrows(TokenizerException.class, () -> BertTokenizer.fromPretrained(noUnk)).getMessage();
        assertTrue(m2.contains("nounk.txt") && m2.contains("unk_token '[UNK]'"), m2);
        Path bpe = Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": \"BPE\", \"vocab\": {}}}");
        String m3 = assertThrows(TokenizerException.class, () -> BertTokenizer.fromPretrained(bpe)).getMessage();
        assertTrue(m3.contains("tokenizer.json") && m3.contains("unsupported") && m3.contains("BPE"), m3);
        Path broken = Files.writeString(dir.resolve("broken.json"), "{\"model\": \n  {\"type\" \"WordPiece\"}}");
        String m4 = assertThrows(IllegalArgumentException.class, () -> BertTokenizer.fromPretrained(broken)).getMessage();
        assertTrue(m4.contains("broken.json:2:"), m4);
    }

    @Test
    void vocabDirectoryWithConfig(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        Files.write(dir.resolve("vocab.txt"), TOKENS);
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"do_lower_case\": false, \"model_max_length\": 7}");
        BertTokenizer cased = BertTokenizer.fromPretrained(dir);
        assertEquals(7, cased.modelMaxLength());
        assertEquals(List.of("[CLS]", "[UNK]", "hello", "[SEP]"), tokens(cased.encode("Hello hello")));
    }

    @Test
    void batchEncodingOnAllCoresEqualsOneByOne() {
        List<String> texts = new java.util.ArrayList<>();
        for (int i = 0; i < 500; i++) texts.add("hello ".repeat(i % 17) + "running unaffable " + i);
        List<Encoding> batch = TOK.encodeBatch(texts, EncodeOptions.NONE);
        for (int i = 0; i < texts.size(); i++) assertArrayEquals(TOK.encode(texts.get(i)).ids(), batch.get(i).ids());
    }
}
