package dev.bertj.tests;

import dev.bertj.io.Json;
import dev.bertj.model.BertForMaskedLM;
import dev.bertj.model.MaskedLmOutput;
import dev.bertj.tokenizer.Batch;
import dev.bertj.tokenizer.BertTokenizer;
import dev.bertj.tokenizer.DataCollatorWithPadding;
import dev.bertj.tokenizer.EncodeOptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ./bertj fill-mask} in HF's pipeline shape, on the converted all-MiniLM-L6-v2 (no MLM head in
 * that export, so the head is newly initialised and seeded: the numbers are checked against the
 * in-process BertForMaskedLM, the shape and the sequences against HF's rules). The real-checkpoint
 * answers ("paris") are in the bert-base profile's tests.
 */
class FillMaskCommandTest {
    @BeforeAll
    static void model() throws Exception {
        if (ModelCommandsTest.dir == null) ModelCommandsTest.convert();
    }

    @Test
    void oneMaskGivesTopKProbabilitiesOfTheInProcessHead() throws Exception {
        TokenizeCommandTest.Result r = TokenizeCommandTest.run("\"the capital of france is [MASK].\"\n", "fill-mask", "--model",
                ModelCommandsTest.dir.toString(), "--top-k", "4");
        assertEquals(0, r.status(), r.err());
        List<Object> preds = Json.asArray(Json.parse(r.out().strip()), "line");
        assertEquals(4, preds.size());

        BertTokenizer tok = BertTokenizer.fromPretrained(ModelCommandsTest.dir);
        BertForMaskedLM m = BertForMaskedLM.fromPretrained(ModelCommandsTest.dir);
        Batch b = new DataCollatorWithPadding(tok).collate(tok.encodeBatch(List.of("the capital of france is [MASK]."), null, EncodeOptions.NONE));
        int at = 6; // [CLS] the capital of france is [MASK] . [SEP]
        assertEquals(tok.tokenToId("[MASK]"), b.inputIds()[at]);
        MaskedLmOutput o = m.logitsAt(b, new int[] {at});
        float[] logits = o.logits().data();
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (float v : logits) max = Math.max(max, v);
        for (float v : logits) sum += Math.exp(v - max);
        double previous = 1;
        for (Object p : preds) {
            Map<String, Object> e = Json.asObject(p, "prediction");
            int id = ((Number) e.get("token")).intValue();
            double score = ((Number) e.get("score")).doubleValue();
            assertEquals(Math.exp(logits[id] - max) / sum, score, 1e-12, "score of " + id);
            assertTrue(score <= previous, "best first");
            previous = score;
            assertEquals(tok.decode(id), e.get("token_str"));
            int[] ids = b.inputIds().clone();
            ids[at] = id;
            assertEquals(tok.decode(ids, true), e.get("sequence"), "one mask: special tokens skipped, as HF");
        }
    }

    @Test
    void severalMasksGiveAnArrayPerMaskAndATextWithoutOneIsNamed() {
        TokenizeCommandTest.Result r = TokenizeCommandTest.run("\"[MASK] is the capital of [MASK].\"\n{\"text\": \"a [MASK] b\"}\n", "fill-mask",
                "--model", ModelCommandsTest.dir.toString(), "--top-k", "2");
        assertEquals(0, r.status(), r.err());
        String[] lines = r.out().strip().split("\n");
        List<Object> two = Json.asArray(Json.parse(lines[0]), "line 1");
        assertEquals(2, two.size(), "one array per mask");
        Map<String, Object> first = Json.asObject(Json.asArray(two.get(0), "mask 1").get(0), "prediction");
        String seq = (String) first.get("sequence");
        assertTrue(seq.startsWith("[CLS] ") && seq.contains("[MASK]"), "several masks keep the other masks visible, as HF: " + seq);
        assertEquals(2, Json.asArray(Json.parse(lines[1]), "line 2").size(), "a single mask is a flat array");

        TokenizeCommandTest.Result bad = TokenizeCommandTest.run("\"a [MASK]\"\n\"no mask here\"\n", "fill-mask", "--model", ModelCommandsTest.dir.toString());
        assertEquals(1, bad.status());
        assertTrue(bad.err().contains("stdin line 2") && bad.err().contains("[MASK]"), bad.err());
    }
}
