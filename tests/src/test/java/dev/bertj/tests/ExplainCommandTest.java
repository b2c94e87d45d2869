package dev.bertj.tests;

import dev.bertj.io.Json;
import dev.bertj.model.BertConfig;
import dev.bertj.model.BertForSequenceClassification;
import dev.bertj.model.BertModel;
import dev.bertj.model.BertModelOutput;
import dev.bertj.tensor.Tensor;
import dev.bertj.tokenizer.BertTokenizer;
import dev.bertj.train.Checkpoint;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ./bertj explain} on the real all-MiniLM-L6-v2 weights: the page's embedded data holds the
 * model's own attention probabilities (written bit for bit), rows that sum to 1 and zeros on padding, within
 * the size budget; a classifier's page has probabilities, saliency and gradient norms; bad input is
 * named. The saliency's finite-difference check is in bertj-core (SaliencyFiniteDifferenceTest), the
 * browser checks in {@link BrowserTest}.
 */
class ExplainCommandTest {
    /** About 40 tokens of text: padded to 64, the page the issue sizes. */
    static final String TEXT = "Congratulations! You have been selected to receive a FREE cruise to the Bahamas. "
            + "Reply now with your bank details to claim the prize before Friday, or call 555-0199 today.";
    static Path encoder, classifier;

    @BeforeAll
    static void prepare() throws Exception {
        ModelCommandsTest.convert();
        encoder = ModelCommandsTest.dir;
        classifier = classifierOf(encoder);
    }

    /** MiniLM with a new, seeded ham/spam head, saved as a checkpoint (its predictions mean nothing; its gradients are real). */
    static Path classifierOf(Path encoderDir) throws IOException {
        BertModel bert = BertModel.fromPretrained(encoderDir);
        BertConfig c = bert.config().withLabels(List.of("ham", "spam")).with("architectures", List.of("BertForSequenceClassification"));
        BertForSequenceClassification m = BertForSequenceClassification.of(c, Map.copyOf(bert.parameters()), 2, 7);
        Path dir = Files.createTempDirectory("bertj-explain-cls").resolve("model");
        Checkpoint.save(dir, m, BertTokenizer.fromPretrained(encoderDir), encoderDir.resolve("tokenizer.json"));
        return dir;
    }

    /** The JSON in the page's {@code bertj-data} element. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> data(Path page) throws IOException {
        Matcher m = Pattern.compile("<script type=\"application/json\" id=\"bertj-data\">(.*?)</script>", Pattern.DOTALL).matcher(Files.readString(page));
        assertTrue(m.find(), "the page embeds its data");
        return (Map<String, Object>) Json.parse(m.group(1));
    }

    static Path explain(Path model, String input, String... extra) throws IOException {
        Path out = Files.createTempDirectory("bertj-explain");
        List<String> args = new java.util.ArrayList<>(List.of("explain", "--model", model.toString(), "--out", out.toString()));
        args.addAll(List.of(extra));
        TokenizeCommandTest.Result r = TokenizeCommandTest.run(input, args.toArray(String[]::new));
        assertEquals(0, r.status(), r.err());
        return out.resolve("index.html");
    }

    @SuppressWarnings("unchecked")
    @Test
    void pageAttentionsAreTheModelsAttentionProbabilities() throws Exception {
        Path page = explain(encoder, Json.write(TEXT) + "\n", "--pad-to", "64");
        long size = Files.size(page);
        Map<String, Object> d = data(page);
        List<Object> tokens = Json.asArray(d.get("tokens"), "tokens");
        assertEquals(64, tokens.size());
        int[] ids = ints(d.get("input_ids")), types = ints(d.get("token_type_ids")), mask = ints(d.get("attention_mask"));
        int real = java.util.Arrays.stream(mask).sum();
        assertTrue(real >= 30 && real < 64, "a padded input: " + real + " real tokens");

        BertModel model = BertModel.fromPretrained(encoder);
        BertModelOutput out = model.forward(ids, types, mask, 1, 64, true, true);
        List<Object> layers = Json.asArray(d.get("attentions"), "attentions");
        assertEquals(out.attentions().size(), layers.size());
        double maxDiff = 0, maxRowError = 0, maxMasked = 0;
        int heads = model.config().numAttentionHeads();
        for (int l = 0; l < layers.size(); l++) {
            Tensor want = out.attentions().get(l);
            List<Object> hs = Json.asArray(layers.get(l), "layer");
            assertEquals(heads, hs.size());
            for (int h = 0; h < heads; h++) {
                List<Object> rows = Json.asArray(hs.get(h), "head");
                assertEquals(64, rows.size());
                for (int q = 0; q < 64; q++) {
                    List<Object> row = Json.asArray(rows.get(q), "row");
                    double sum = 0;
                    for (int k = 0; k < 64; k++) {
                        float got = (float) Json.asDouble(row.get(k), "weight");
                        maxDiff = Math.max(maxDiff, Math.abs(got - want.data()[(h * 64 + q) * 64 + k]));
                        sum += got;
                        if (mask[k] == 0) maxMasked = Math.max(maxMasked, Math.abs(got));
                    }
                    maxRowError = Math.max(maxRowError, Math.abs(sum - 1));
                }
            }
        }
        System.err.printf("ExplainCommandTest: page %d bytes for %d tokens (%d real); max |page - model| attention %.3g; max |row sum - 1| %.3g; "
                + "max |attention| on padding %.3g%n", size, tokens.size(), real, maxDiff, maxRowError, maxMasked);
        // The page writes each float exactly (shortest round-trip form), and a forward pass in this JVM gives
        // the same bits as the one in ./bertj's: the kernels' exp no longer depends on JIT warm-up.
        assertEquals(0.0, maxDiff, "the page's attentions are the model's attention probabilities, bit for bit");
        assertTrue(maxRowError <= 1e-5, "rows sum to 1: " + maxRowError);
        assertEquals(0.0, maxMasked, "padding gets no attention");
        assertTrue(size < 5_000_000, "a 64-token MiniLM page stays under 5 MB: " + size);

        // Written and read back, the page's numbers are the computed floats bit for bit.
        dev.bertj.explain.Explainer ex = dev.bertj.explain.Explainer.load(encoder);
        dev.bertj.tokenizer.Encoding enc = ex.tokenizer().encode(TEXT, null, dev.bertj.tokenizer.EncodeOptions.builder()
                .truncation(dev.bertj.tokenizer.EncodeOptions.Truncation.LONGEST_FIRST).maxLength(64).padding(dev.bertj.tokenizer.EncodeOptions.Padding.MAX_LENGTH).build());
        Map<String, Object> direct = ex.explain(TEXT, null, enc, null);
        Path again = Files.createTempFile("bertj-explain", ".html");
        Files.writeString(again, dev.bertj.explain.ExplainPage.html(direct));
        List<Object> read = Json.asArray(data(again).get("attentions"), "attentions"), computed = (List<Object>) direct.get("attentions");
        for (int l = 0; l < read.size(); l++) {
            for (int h = 0; h < heads; h++) {
                for (int q = 0; q < 64; q++) {
                    float[] want = (float[]) ((List<Object>) ((List<Object>) computed.get(l)).get(h)).get(q);
                    List<Object> got = Json.asArray(Json.asArray(Json.asArray(read.get(l), "l").get(h), "h").get(q), "q");
                    for (int k = 0; k < 64; k++) assertEquals(want[k], (float) Json.asDouble(got.get(k), "w"), "attention written exactly");
                }
            }
        }

        List<Object> norms = Json.asArray(d.get("hidden_norms"), "hidden_norms");
        assertEquals(layers.size() + 1, norms.size(), "the embeddings and every layer");
        List<Object> last = Json.asArray(norms.getLast(), "last");
        float[] lastHidden = out.lastHiddenState().data();
        double n0 = 0;
        for (int j = 0; j < 384; j++) n0 += lastHidden[j] * lastHidden[j];
        assertEquals(Math.sqrt(n0), Json.asDouble(last.getFirst(), "norm"), 1e-4, "norm of [CLS]'s last hidden state");
        assertNull(d.get("saliency"), "a bare encoder has no loss, hence no saliency");
        assertTrue(String.valueOf(d.get("gradients_note")).contains("no head"), "the page says why");
    }

    @SuppressWarnings("unchecked")
    @Test
    void classifierPageHasProbabilitiesSaliencyAndGradientNorms() throws Exception {
        Path page = explain(classifier, "{\"text\": " + Json.write(TEXT) + ", \"label\": \"spam\"}\n");
        Map<String, Object> d = data(page);
        Map<String, Object> p = (Map<String, Object>) d.get("predictions");
        assertEquals("spam", p.get("target"));
        assertEquals("given", p.get("target_is"));
        double sum = 0;
        for (Object r : Json.asArray(p.get("probabilities"), "probabilities")) sum += Json.asDouble(((Map<String, Object>) r).get("probability"), "p");
        assertEquals(1.0, sum, 1e-6);
        List<Object> sal = Json.asArray(d.get("saliency"), "saliency");
        assertEquals(Json.asArray(d.get("tokens"), "tokens").size(), sal.size());
        assertTrue(sal.stream().anyMatch(v -> Json.asDouble(v, "s") != 0), "saliency is not all zero");
        Map<String, Object> g = (Map<String, Object>) d.get("gradients");
        List<Object> groups = Json.asArray(g.get("groups"), "groups");
        assertTrue(groups.stream().anyMatch(o -> "layer 5".equals(((Map<String, Object>) o).get("layer"))
                && "attention.self.query".equals(((Map<String, Object>) o).get("group"))), "per layer and parameter group");
        assertTrue(Json.asDouble(g.get("total_norm"), "total") > 0);
        double loss = Json.asDouble(g.get("loss"), "loss");
        double pSpam = Json.asDouble(((Map<String, Object>) Json.asArray(p.get("probabilities"), "p").get(1)).get("probability"), "p");
        assertEquals(-Math.log(pSpam), loss, 1e-4, "the loss differentiated is -log p(spam)");
    }

    @SuppressWarnings("unchecked")
    @Test
    void maskedLmPageHasTheTopFiveAtEachMask() throws Exception {
        // MiniLM's export has no MLM head: a new, seeded one (its guesses mean nothing; the plumbing is what is checked).
        dev.bertj.model.BertForMaskedLM mlm = dev.bertj.model.BertForMaskedLM.fromPretrained(encoder);
        Path dir = Files.createTempDirectory("bertj-explain-mlm").resolve("model");
        Checkpoint.save(dir, mlm, BertTokenizer.fromPretrained(encoder), encoder.resolve("tokenizer.json"));
        Map<String, Object> d = data(explain(dir, "\"the capital of france is [MASK] and of italy [MASK].\"\n"));
        Map<String, Object> p = (Map<String, Object>) d.get("predictions");
        assertEquals("masked_lm", p.get("task"));
        List<Object> masks = Json.asArray(p.get("masks"), "masks");
        assertEquals(2, masks.size(), "one entry per [MASK]");
        for (Object m : masks) {
            Map<String, Object> mask = (Map<String, Object>) m;
            assertEquals(5, Json.asArray(mask.get("top"), "top").size());
            // The logit lens: the embeddings and every layer; its last row is the prediction itself.
            List<Object> lens = Json.asArray(mask.get("logit_lens"), "logit_lens");
            assertEquals(Json.asArray(d.get("attentions"), "attentions").size() + 1, lens.size());
            assertEquals(((Map<String, Object>) Json.asArray(mask.get("top"), "top").getFirst()).get("id"),
                    ((Map<String, Object>) Json.asArray(lens.getLast(), "last").getFirst()).get("id"));
        }
        assertEquals(Json.asArray(d.get("tokens"), "tokens").size(), Json.asArray(d.get("saliency"), "saliency").size());
        List<Object> groups = Json.asArray(((Map<String, Object>) d.get("gradients")).get("groups"), "groups");
        assertTrue(groups.stream().anyMatch(o -> "head".equals(((Map<String, Object>) o).get("layer"))), "the MLM head's gradients: " + groups);
    }

    @Test
    void badInputIsNamed() {
        TokenizeCommandTest.Result r = TokenizeCommandTest.run("{\"text\": \"a\", \n", "explain", "--model", classifier.toString(), "--out", "/tmp/never");
        assertEquals(1, r.status());
        assertTrue(r.err().contains("stdin line 1"), r.err());
        r = TokenizeCommandTest.run("\"one\"\n\"two\"\n", "explain", "--model", classifier.toString(), "--out", "/tmp/never");
        assertEquals(1, r.status());
        assertTrue(r.err().contains("stdin line 2: explain reads one input"), r.err());
        r = TokenizeCommandTest.run("{\"text\": \"hello\", \"label\": \"eggs\"}\n", "explain", "--model", classifier.toString(), "--out", "/tmp/never");
        assertEquals(1, r.status());
        assertTrue(r.err().contains("stdin line 1: field label: unknown label eggs (labels: [ham, spam])"), r.err());
        r = TokenizeCommandTest.run("{\"text\": \"hello\", \"label\": \"spam\"}\n", "explain", "--model", encoder.toString(), "--out", "/tmp/never");
        assertEquals(1, r.status());
        assertTrue(r.err().contains("no classification head"), r.err());
        r = TokenizeCommandTest.run("", "explain", "--model", encoder.toString(), "--out", "/tmp/never");
        assertEquals(1, r.status());
        assertTrue(r.err().contains("no input"), r.err());
    }

    static int[] ints(Object json) {
        return java.util.Arrays.stream(TokenizeCommandTest.longs(json)).mapToInt(l -> (int) l).toArray();
    }
}
