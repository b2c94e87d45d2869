package dev.bertj.tests;

import dev.bertj.api.Classification;
import dev.bertj.api.FillMask;
import dev.bertj.api.ModelResolver;
import dev.bertj.api.Pooling;
import dev.bertj.api.SentenceEmbedder;
import dev.bertj.api.TextClassifier;
import dev.bertj.io.Cache;
import dev.bertj.model.BertConfig;
import dev.bertj.model.BertForMaskedLM;
import dev.bertj.model.BertForSequenceClassification;
import dev.bertj.model.BertModel;
import dev.bertj.model.SentenceEmbeddings;
import dev.bertj.tokenizer.Batch;
import dev.bertj.tokenizer.BertTokenizer;
import dev.bertj.tokenizer.DataCollatorWithPadding;
import dev.bertj.tokenizer.EncodeOptions;
import dev.bertj.train.Checkpoint;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Java API's façades on the real all-MiniLM-L6-v2, resolved by name from the MiniLM jar on the
 * test class path into an empty cache. Their batching (length-sorted, dynamic padding, answers in
 * input order) is checked against the plain one-text-at-a-time computation; the vectors themselves
 * against langchain4j's model in bertj-langchain4j's tests.
 */
class ApiFacadesTest {
    static String savedCache;
    static Path cache;
    static Path dir;
    static List<String> texts;

    @BeforeAll
    static void resolveDefault() throws Exception {
        savedCache = System.getProperty(Cache.PROPERTY);
        cache = Files.createTempDirectory("bertj-api-cache");
        System.setProperty(Cache.PROPERTY, cache.toString());
        dir = ModelResolver.resolve("default");
        texts = new ArrayList<>();
        List<String> sample = RealTextParityTest.sample();
        for (int i = 0; i < 6; i++) {
            String t = sample.get(i * 7);
            texts.add(t.substring(0, Math.min(t.length(), 40 + i * i * 200))); // 10 to 1,500 tokens, in mixed order
            texts.add(i % 2 == 0 ? "short " + i : t);
        }
    }

    @AfterAll
    static void restore() {
        if (savedCache == null) System.clearProperty(Cache.PROPERTY);
        else System.setProperty(Cache.PROPERTY, savedCache);
    }

    @Test
    void theDefaultModelIsConvertedOnceFromTheClassPathWithItsSentenceTransformersFiles() throws Exception {
        assertEquals(cache.resolve("models").resolve("default"), dir);
        for (String f : new String[] {"model.safetensors", "config.json", "tokenizer.json", "modules.json", "1_Pooling/config.json"}) {
            assertTrue(Files.isRegularFile(dir.resolve(f)), f);
        }
        var before = Files.getLastModifiedTime(dir.resolve("model.safetensors"));
        assertEquals(dir, ModelResolver.resolve("default"));
        assertEquals(before, Files.getLastModifiedTime(dir.resolve("model.safetensors")), "converted once");
        try (SentenceEmbedder e = SentenceEmbedder.load("default")) {
            assertEquals(Pooling.MEAN, e.pooling());
            assertTrue(e.normalize(), "all-MiniLM-L6-v2's modules.json ends with Normalize");
            assertEquals(256, e.maxLength(), "sentence_bert_config.json's max_seq_length");
            assertEquals(384, e.dimension());
        }
    }

    @Test
    void lengthSortedBatchesGiveEachTextWhatItGetsAlone() throws Exception {
        BertTokenizer tok = BertTokenizer.fromPretrained(dir);
        try (SentenceEmbedder e = SentenceEmbedder.builder(dir).batchSize(5).build();
             BertModel plain = BertModel.fromPretrained(dir)) {
            float[][] all = e.embed(texts);
            assertEquals(texts.size(), all.length);
            EncodeOptions opts = EncodeOptions.builder().truncation(EncodeOptions.Truncation.LONGEST_FIRST).maxLength(256).build();
            float worst = 0;
            for (int i = 0; i < texts.size(); i++) {
                Batch b = new DataCollatorWithPadding(tok).collate(List.of(tok.encode(texts.get(i), null, opts)));
                float[] want = SentenceEmbeddings.mean(plain.forward(b).lastHiddenState().data(), b.attentionMask(), 1, b.seqLen(), 384);
                SentenceEmbeddings.normalize(want, 1, 384);
                for (int j = 0; j < 384; j++) worst = Math.max(worst, Math.abs(want[j] - all[i][j]));
            }
            assertTrue(worst <= 1e-5f, "batched vs alone: " + worst);
            assertEquals(0, e.embed(List.of()).length);
            IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> e.embed(java.util.Arrays.asList("a", null)));
            assertEquals("SentenceEmbedder.embed: texts[1] is null", bad.getMessage());
        }
    }

    @Test
    void settingsComeFromSentenceTransformersFilesAndAreCheckedInLibraryTerms() throws Exception {
        Path copy = Files.createTempDirectory("bertj-st");
        for (String f : new String[] {"model.safetensors", "config.json", "vocab.txt", "tokenizer_config.json", "tokenizer.json"}) {
            Files.copy(dir.resolve(f), copy.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
        try (SentenceEmbedder e = SentenceEmbedder.builder(copy).build()) {
            assertEquals(Pooling.MEAN, e.pooling(), "no sentence-transformers files: mean");
            assertFalse(e.normalize());
            assertEquals(512, e.maxLength(), "truncation at the model's maximum");
            assertEquals(384, e.embed("x".repeat(2) + " word".repeat(700)).length, "a 700-word text is truncated, not refused");
        }
        Files.createDirectories(copy.resolve("pool"));
        Files.writeString(copy.resolve("modules.json"), "[{\"path\": \"\", \"type\": \"sentence_transformers.models.Transformer\"},"
                + " {\"path\": \"pool\", \"type\": \"sentence_transformers.models.Pooling\"}]");
        Files.writeString(copy.resolve("pool/config.json"), "{\"pooling_mode_cls_token\": true, \"pooling_mode_mean_tokens\": false}");
        try (SentenceEmbedder e = SentenceEmbedder.builder(copy).build()) {
            assertEquals(Pooling.CLS, e.pooling());
            assertFalse(e.normalize(), "no Normalize module");
        }
        Files.writeString(copy.resolve("pool/config.json"), "{\"pooling_mode_cls_token\": true, \"pooling_mode_mean_tokens\": true}");
        IllegalArgumentException two = assertThrows(IllegalArgumentException.class, () -> SentenceEmbedder.builder(copy).build());
        assertTrue(two.getMessage().contains("config.json") && two.getMessage().contains("pooling_mode_cls_token, pooling_mode_mean_tokens")
                || two.getMessage().contains("pooling_mode_mean_tokens, pooling_mode_cls_token"), two.getMessage());
        IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class, () -> SentenceEmbedder.builder(dir).maxLength(600).build());
        assertEquals("SentenceEmbedder.Builder.maxLength: 600 is more than the model's max_position_embeddings 512", tooLong.getMessage());
    }

    @Test
    void aClassifierAnswersEachTextInOrderWithItsLabels() throws Exception {
        BertConfig config = BertConfig.read(dir.resolve("config.json")).withLabels(List.of("ham", "spam"));
        BertTokenizer tok = BertTokenizer.fromPretrained(dir);
        Path ckpt = Files.createTempDirectory("bertj-classifier");
        try (BertForSequenceClassification m = BertForSequenceClassification.of(config, BertModel.fromPretrained(dir).parameters(), 2, 7)) {
            Checkpoint.save(ckpt, m, tok);
            try (TextClassifier c = TextClassifier.builder(ckpt.toString()).batchSize(4).maxLength(128).build()) {
                assertEquals(List.of("ham", "spam"), c.labels());
                List<Classification> got = c.classify(texts);
                EncodeOptions opts = EncodeOptions.builder().truncation(EncodeOptions.Truncation.LONGEST_FIRST).maxLength(128).build();
                for (int i = 0; i < texts.size(); i++) {
                    float[] p = m.forward(new DataCollatorWithPadding(tok).collate(List.of(tok.encode(texts.get(i), null, opts)))).probabilities();
                    Classification ci = got.get(i);
                    assertEquals(p[0], ci.probabilities().get("ham"), 1e-5f, "text " + i);
                    assertEquals(p[1], ci.probabilities().get("spam"), 1e-5f, "text " + i);
                    assertEquals(p[1] > p[0] ? "spam" : "ham", ci.label());
                }
            }
        }
    }

    @Test
    void fillMaskNamesTheTextWithoutAMask() throws Exception {
        try (FillMask f = FillMask.of(BertForMaskedLM.fromPretrained(dir), BertTokenizer.fromPretrained(dir))) {
            var one = f.fill("paris is the [MASK] of france.", 3);
            assertEquals(1, one.size());
            assertEquals(3, one.getFirst().size());
            FillMask.NoMaskException e = assertThrows(FillMask.NoMaskException.class,
                    () -> f.fill(List.of("a [MASK]", "no mask here"), null, 2));
            assertEquals(1, e.index());
            assertTrue(e.getMessage().startsWith("FillMask.fill: texts[1] has no [MASK]"), e.getMessage());
        }
    }
}
