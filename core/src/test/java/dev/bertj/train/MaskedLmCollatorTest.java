package dev.bertj.train;

import dev.bertj.tokenizer.Batch;
import dev.bertj.tokenizer.BertTokenizer;
import dev.bertj.tokenizer.DataCollatorForLanguageModeling;
import dev.bertj.tokenizer.EncodeOptions;
import dev.bertj.tokenizer.Encoding;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link DataCollatorForLanguageModeling} follows HF's rule (torch_mask_tokens): the proportions
 * are checked on ~100k candidate tokens against binomial bounds of 5 standard deviations, and the
 * exact invariants (special tokens and padding never selected, labels the original ids, unselected
 * tokens untouched) on every position.
 */
class MaskedLmCollatorTest {
    /** [PAD] [UNK] [CLS] [SEP] [MASK] and 995 words w5..w999. */
    static BertTokenizer tokenizer() {
        List<String> tokens = new ArrayList<>(List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"));
        for (int i = 5; i < 1000; i++) tokens.add("w" + i);
        return BertTokenizer.builder().tokens(tokens).build();
    }

    static List<Encoding> texts(BertTokenizer tok, int n, long seed) {
        Random r = new Random(seed);
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            StringBuilder sb = new StringBuilder();
            for (int k = 0, len = 1 + r.nextInt(60); k < len; k++) {
                // Some [UNK] (an unknown word), [MASK] and [UNK] written out: special tokens inside the text.
                int p = r.nextInt(100);
                sb.append(p == 0 ? "zzz" : p == 1 ? "[MASK]" : p == 2 ? "[UNK]" : "w" + (5 + r.nextInt(995))).append(' ');
            }
            texts.add(sb.toString());
        }
        return tok.encodeBatch(texts, EncodeOptions.NONE);
    }

    static void within5Sigma(String what, long hits, long trials, double p) {
        double mean = trials * p, sd = Math.sqrt(trials * p * (1 - p));
        assertTrue(Math.abs(hits - mean) <= 5 * sd, what + ": " + hits + " of " + trials + ", expected " + mean + " +- " + 5 * sd);
    }

    @Test
    void followsHfRuleOnEveryPositionAndInProportion() {
        BertTokenizer tok = tokenizer();
        List<Encoding> enc = texts(tok, 3000, 1);
        DataCollatorForLanguageModeling c = new DataCollatorForLanguageModeling(tok);
        long candidates = 0, selected = 0, masked = 0, random = 0, kept = 0;
        for (int from = 0; from < enc.size(); from += 100) {
            List<Encoding> part = enc.subList(from, from + 100);
            Batch b = c.collate(part, 42, from / 100);
            int s = b.seqLen();
            for (int r = 0; r < b.batchSize(); r++) {
                int[] orig = part.get(r).ids();
                for (int i = 0; i < s; i++) {
                    int at = r * s + i, label = b.labels()[at], id = b.inputIds()[at];
                    boolean real = i < orig.length;
                    assertEquals(real ? 1 : 0, b.attentionMask()[at]);
                    boolean special = !real || tok.specialTokens().isSpecialId(orig[i]);
                    if (special) {
                        assertEquals(-100, label, "special tokens and padding are never selected");
                        assertEquals(real ? orig[i] : 0, id, "and stay as they are");
                        continue;
                    }
                    candidates++;
                    if (label == -100) {
                        assertEquals(orig[i], id, "an unselected token is unchanged");
                        continue;
                    }
                    assertEquals(orig[i], label, "the label is the original id");
                    selected++;
                    if (id == tok.specialTokens().maskId()) masked++;
                    else if (id == orig[i]) kept++;
                    else random++;
                }
            }
        }
        within5Sigma("selected", selected, candidates, 0.15);
        // A random replacement lands on [MASK] or on the original id with probability 1/1000 each.
        within5Sigma("[MASK]", masked, selected, 0.8 + 0.1 / 1000);
        within5Sigma("random", random, selected, 0.1 * 998 / 1000);
        within5Sigma("kept", kept, selected, 0.1 + 0.1 / 1000);
        assertTrue(candidates > 80_000, "enough tokens for the bounds to mean something: " + candidates);
    }

    @Test
    void randomReplacementsCoverTheVocabulary() {
        BertTokenizer tok = tokenizer();
        // Every selected token replaced by a random id: over many draws each id appears, special ones included (as in HF).
        DataCollatorForLanguageModeling c = new DataCollatorForLanguageModeling(tok, 1.0, 0.0, 1.0);
        boolean[] seen = new boolean[tok.vocabSize()];
        List<Encoding> enc = texts(tok, 400, 2);
        for (int k = 0; k < 10; k++) {
            Batch b = c.collate(enc, 7, k);
            for (int i = 0; i < b.inputIds().length; i++) if (b.labels()[i] != -100) seen[b.inputIds()[i]] = true;
        }
        for (int id = 0; id < seen.length; id++) assertTrue(seen[id], "id " + id + " never drawn");
    }

    @Test
    void masksAreAFunctionOfSeedStreamAndRowOnly() {
        BertTokenizer tok = tokenizer();
        DataCollatorForLanguageModeling c = new DataCollatorForLanguageModeling(tok);
        List<Encoding> enc = texts(tok, 8, 3);
        Batch a = c.collate(enc, 42, 5), again = c.collate(enc, 42, 5);
        assertArrayEquals(a.inputIds(), again.inputIds());
        assertArrayEquals(a.labels(), again.labels());
        assertFalse(Arrays.equals(a.labels(), c.collate(enc, 42, 6).labels()), "another stream, other masks");
        assertFalse(Arrays.equals(a.labels(), c.collate(enc, 43, 5).labels()), "another seed, other masks");
        // Row 0 masked alone: the same ids and labels as in the padded batch (over its own length).
        Batch alone = c.collate(List.of(enc.get(0)), 42, 5);
        int n = enc.get(0).length();
        assertArrayEquals(Arrays.copyOfRange(a.inputIds(), 0, n), Arrays.copyOf(alone.inputIds(), n));
        assertArrayEquals(Arrays.copyOfRange(a.labels(), 0, n), Arrays.copyOf(alone.labels(), n));
        // mask() leaves its input alone and replaces row labels with token labels.
        Batch padded = new dev.bertj.tokenizer.DataCollatorWithPadding(tok).collate(enc);
        int[] before = padded.inputIds().clone();
        assertNull(padded.labels());
        Batch m = c.mask(padded, 42, 5);
        assertArrayEquals(before, padded.inputIds());
        assertArrayEquals(a.inputIds(), m.inputIds());
        assertEquals(padded.batchSize() * padded.seqLen(), m.labels().length);
    }

    @Test
    void refusesProbabilitiesHfRefuses() {
        BertTokenizer tok = tokenizer();
        assertThrows(IllegalArgumentException.class, () -> new DataCollatorForLanguageModeling(tok, 1.5, 0.8, 0.1));
        assertThrows(IllegalArgumentException.class, () -> new DataCollatorForLanguageModeling(tok, Double.NaN, 0.8, 0.1));
        String msg = assertThrows(IllegalArgumentException.class, () -> new DataCollatorForLanguageModeling(tok, 0.15, 0.8, 0.3)).getMessage();
        assertTrue(msg.contains("must not exceed 1"), msg);
    }
}
