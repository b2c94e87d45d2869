package dev.bertj.tests;

import dev.bertj.tokenizer.Batch;
import dev.bertj.tokenizer.BertTokenizer;
import dev.bertj.tokenizer.DataCollatorWithPadding;
import dev.bertj.tokenizer.EncodeOptions;
import dev.bertj.tokenizer.Encoding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The notebook's tokenizer cells (seeds/000: bert-base-uncased, whose vocabulary all-MiniLM-L6-v2
 * shares). Expected values are the notebook's printed outputs; each is also checked against HF.
 */
class NotebookTokenizerTest {
    static final String FIRST = "Tokenization is the process of splitting sequence to tokens";
    static final String SECOND = "I like BUAN6342";
    static BertTokenizer tok;
    static HfOracle hf;

    @BeforeAll
    static void load() throws IOException {
        tok = BertTokenizer.fromPretrained(HfOracle.uncasedTokenizerJson());
        hf = HfOracle.builder().build();
    }

    @AfterAll
    static void close() {
        hf.close();
    }

    @Test
    void vocabSize() {
        assertEquals(30522, tok.vocabSize());
    }

    @Test
    void idsTokensAndMasksOfBothSentences() {
        EncodeOptions truncation = EncodeOptions.builder().truncation(EncodeOptions.Truncation.LONGEST_FIRST).maxLength(512).build();
        Encoding a = tok.encode(FIRST, null, truncation);
        assertArrayEquals(new int[] {101, 19204, 3989, 2003, 1996, 2832, 1997, 14541, 5537, 2000, 19204, 2015, 102}, a.ids());
        assertArrayEquals(new int[13], a.typeIds());
        assertEquals(List.of("[CLS]", "token", "##ization", "is", "the", "process", "of", "splitting", "sequence", "to",
                "token", "##s", "[SEP]"), List.of(a.tokens()));
        Encoding b = tok.encode(SECOND, null, truncation);
        assertArrayEquals(new int[] {101, 1045, 2066, 20934, 2319, 2575, 22022, 2475, 102}, b.ids());
        assertEquals(List.of("[CLS]", "i", "like", "bu", "##an", "##6", "##34", "##2", "[SEP]"), List.of(b.tokens()));
        int[] ones = new int[9];
        Arrays.fill(ones, 1);
        assertArrayEquals(ones, b.attentionMask());
        Parity.assertSame("notebook sentence 1", hf.encode(FIRST), tok.encode(FIRST));
        Parity.assertSame("notebook sentence 2", hf.encode(SECOND), tok.encode(SECOND));
    }

    @Test
    void convertTokensToStringAndSpecialTokens() {
        assertEquals("[CLS] tokenization is the process of splitting sequence to tokens [SEP]",
                tok.convertTokensToString(List.of(tok.encode(FIRST).tokens())));
        assertEquals("[CLS] i like buan6342 [SEP]", tok.convertTokensToString(List.of(tok.encode(SECOND).tokens())));
        assertEquals(List.of("[UNK]", "[SEP]", "[PAD]", "[CLS]", "[MASK]"), tok.specialTokens().all());
        assertEquals(List.of(100, 102, 0, 101, 103), tok.specialTokens().allIds());
    }

    @Test
    void collatedBatchIsPaddedWithZeroIdsAndZeroMask() {
        DataCollatorWithPadding collator = new DataCollatorWithPadding(tok);
        Batch batch = collator.collateExamples(List.of(
                new DataCollatorWithPadding.Example(tok.encode(FIRST), 0),
                new DataCollatorWithPadding.Example(tok.encode(SECOND), 1)));
        assertEquals(13, batch.seqLen());
        assertArrayEquals(new int[] {101, 1045, 2066, 20934, 2319, 2575, 22022, 2475, 102, 0, 0, 0, 0}, batch.inputIds(1));
        assertArrayEquals(new int[] {1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0}, batch.attentionMask(1));
        assertArrayEquals(new int[] {0, 1}, batch.labels());
        // HF pads the same two texts to the same ids and mask.
        try (HfOracle padded = HfOracle.builder().padding(HfOracle.Padding.LONGEST).build()) {
            List<HfOracle.Enc> want = padded.batchEncode(List.of(FIRST, SECOND));
            for (int i = 0; i < 2; i++) {
                assertArrayEquals(want.get(i).ids(), Parity.toLong(batch.inputIds(i)));
                assertArrayEquals(want.get(i).attentionMask(), Parity.toLong(batch.attentionMask(i)));
                assertArrayEquals(want.get(i).typeIds(), Parity.toLong(batch.tokenTypeIds(i)));
            }
        }
    }
}
