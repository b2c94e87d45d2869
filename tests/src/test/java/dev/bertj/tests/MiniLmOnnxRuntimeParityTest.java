package dev.bertj.tests;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.bertj.io.OnnxBertConverter;
import dev.bertj.model.BertConfig;
import dev.bertj.model.BertModel;
import dev.bertj.model.BertModelOutput;
import dev.bertj.tokenizer.Batch;
import dev.bertj.tokenizer.BertTokenizer;
import dev.bertj.tokenizer.DataCollatorWithPadding;
import dev.bertj.tokenizer.EncodeOptions;
import dev.bertj.tokenizer.Encoding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real all-MiniLM-L6-v2 weights: bertj's forward pass (weights converted from the ONNX file
 * by bertj's own converter) against ONNX Runtime running that same ONNX file.
 */
class MiniLmOnnxRuntimeParityTest {
    static Path onnx;
    static BertModel model;
    static BertTokenizer tok;
    static OrtEnvironment env;
    static OrtSession session;

    @BeforeAll
    static void load() throws Exception {
        onnx = Files.createTempFile("bertj-minilm", ".onnx");
        onnx.toFile().deleteOnExit();
        try (InputStream in = MiniLmOnnxRuntimeParityTest.class.getResourceAsStream("/all-minilm-l6-v2.onnx")) {
            Files.copy(in, onnx, StandardCopyOption.REPLACE_EXISTING);
        }
        OnnxBertConverter.Converted c = OnnxBertConverter.convert(onnx, OnnxBertConverter.Progress.NONE);
        model = BertModel.of(BertConfig.of(c.config()), c.weights(), 42);
        tok = BertTokenizer.fromPretrained(HfOracle.uncasedTokenizerJson());
        env = OrtEnvironment.getEnvironment();
        session = env.createSession(onnx.toString(), new OrtSession.SessionOptions());
    }

    @AfterAll
    static void close() throws Exception {
        session.close();
    }

    static float[] ort(Batch b) throws Exception {
        long[] shape = {b.batchSize(), b.seqLen()};
        try (OnnxTensor ids = OnnxTensor.createTensor(env, java.nio.LongBuffer.wrap(longs(b.inputIds())), shape);
             OnnxTensor mask = OnnxTensor.createTensor(env, java.nio.LongBuffer.wrap(longs(b.attentionMask())), shape);
             OnnxTensor types = OnnxTensor.createTensor(env, java.nio.LongBuffer.wrap(longs(b.tokenTypeIds())), shape);
             OrtSession.Result r = session.run(Map.of("input_ids", ids, "attention_mask", mask, "token_type_ids", types))) {
            OnnxTensor out = (OnnxTensor) r.get("last_hidden_state").orElseThrow();
            java.nio.FloatBuffer fb = out.getFloatBuffer();
            float[] a = new float[fb.remaining()];
            fb.get(a);
            return a;
        }
    }

    static long[] longs(int[] a) {
        long[] r = new long[a.length];
        for (int i = 0; i < a.length; i++) r[i] = a[i];
        return r;
    }

    /** Max abs difference over real (unmasked) tokens; padded positions are not outputs anyone uses. */
    static float maxDiff(float[] want, float[] got, int[] mask, int hidden) {
        float max = 0;
        for (int t = 0; t < mask.length; t++) {
            if (mask[t] == 0) continue;
            for (int i = 0; i < hidden; i++) max = Math.max(max, Math.abs(want[t * hidden + i] - got[t * hidden + i]));
        }
        return max;
    }

    @Test
    void convertedConfigIsMiniLm() {
        BertConfig c = model.config();
        assertEquals(384, c.hiddenSize());
        assertEquals(6, c.numHiddenLayers());
        assertEquals(12, c.numAttentionHeads());
        assertEquals(1536, c.intermediateSize());
        assertEquals("gelu", c.hiddenAct());
        assertTrue(!model.hasPretrainedPooler(), "the ONNX export has no pooler");
    }

    @Test
    void realTextsInPaddedBatchesIncludingTruncationAt512() throws Exception {
        List<String> texts = new ArrayList<>(RealTextParityTest.sample().subList(0, 40));
        texts.add(0, "Tokenization is the process of splitting sequence to tokens");
        texts.add(1, "I like BUAN6342");
        EncodeOptions o = EncodeOptions.builder().truncation(EncodeOptions.Truncation.LONGEST_FIRST).maxLength(512).build();
        List<Encoding> enc = tok.encodeBatch(texts, o);
        int truncated = 0;
        for (Encoding e : enc) if (e.length() == 512) truncated++;
        assertTrue(truncated >= 3, "some texts reach 512 tokens: " + truncated);
        DataCollatorWithPadding collator = new DataCollatorWithPadding(tok);
        float worst = 0;
        int compared = 0;
        for (int from = 0; from < enc.size(); from += 8) {
            Batch b = collator.collate(enc.subList(from, Math.min(enc.size(), from + 8)));
            BertModelOutput out = model.forward(b);
            float d = maxDiff(ort(b), out.lastHiddenState().data(), b.attentionMask(), 384);
            worst = Math.max(worst, d);
            compared += b.batchSize();
        }
        System.err.println("MiniLmOnnxRuntimeParityTest: " + compared + " texts, max abs diff vs ONNX Runtime " + worst);
        assertTrue(compared >= 32);
        assertTrue(worst <= 1e-4f, "max abs diff " + worst);
    }

    @Test
    void aTextAloneEqualsTheSameTextInAPaddedBatch() {
        List<String> texts = List.of("short one", "I like BUAN6342", "a considerably longer sentence, with punctuation; and more words than the others");
        DataCollatorWithPadding collator = new DataCollatorWithPadding(tok);
        Batch batch = collator.collate(tok.encodeBatch(texts, EncodeOptions.NONE));
        float[] together = model.forward(batch).lastHiddenState().data();
        for (int i = 0; i < texts.size(); i++) {
            Batch alone = collator.collate(List.of(tok.encode(texts.get(i))));
            float[] single = model.forward(alone).lastHiddenState().data();
            float max = 0;
            for (int j = 0; j < single.length; j++) max = Math.max(max, Math.abs(single[j] - together[i * batch.seqLen() * 384 + j]));
            assertTrue(max <= 1e-5f, "text " + i + ": alone vs batched differ by " + max);
        }
    }

    /**
     * Real e-mails of very different lengths (some truncated at 512) in one right-padded batch, which runs
     * padding-free: each text's output equals the text run alone (no padding at all) within 1e-5, on every token.
     */
    @Test
    void realTextsAloneEqualTheSameTextsInAPaddedBatch() throws Exception {
        List<String> texts = new ArrayList<>(RealTextParityTest.sample().subList(0, 12));
        texts.add(0, "I like BUAN6342");
        EncodeOptions o = EncodeOptions.builder().truncation(EncodeOptions.Truncation.LONGEST_FIRST).maxLength(512).build();
        List<Encoding> enc = tok.encodeBatch(texts, o);
        DataCollatorWithPadding collator = new DataCollatorWithPadding(tok);
        Batch batch = collator.collate(enc);
        int real = 0;
        for (int m : batch.attentionMask()) real += m;
        assertTrue(real < batch.batchSize() * batch.seqLen(), "the batch has padding");
        float[] together = model.forward(batch).lastHiddenState().data();
        float worst = 0;
        for (int i = 0; i < enc.size(); i++) {
            float[] single = model.forward(collator.collate(List.of(enc.get(i)))).lastHiddenState().data();
            for (int j = 0; j < single.length; j++) worst = Math.max(worst, Math.abs(single[j] - together[i * batch.seqLen() * 384 + j]));
        }
        System.err.println("MiniLmOnnxRuntimeParityTest: " + enc.size() + " texts alone vs in one padded batch: max abs diff " + worst);
        assertTrue(worst <= 1e-5f, "alone vs batched differ by " + worst);
    }

    @Test
    void concurrentCallsGiveIdenticalResults() throws Exception {
        DataCollatorWithPadding collator = new DataCollatorWithPadding(tok);
        Batch b = collator.collate(tok.encodeBatch(List.of("one loaded model", "many threads at once"), EncodeOptions.NONE));
        float[] want = model.forward(b).lastHiddenState().data();
        List<Thread> threads = new ArrayList<>();
        List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int t = 0; t < 8; t++) {
            Thread th = new Thread(() -> {
                for (int k = 0; k < 5; k++) {
                    float[] got = model.forward(b).lastHiddenState().data();
                    if (!java.util.Arrays.equals(want, got)) errors.add(new AssertionError("thread result differs"));
                }
            });
            threads.add(th);
            th.start();
        }
        for (Thread th : threads) th.join();
        assertTrue(errors.isEmpty(), errors.toString());
    }
}
