package dev.bertj.langchain4j;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.bertj.io.Json;
import dev.langchain4j.data.segment.TextSegment;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The long-text option ({@code maxSegmentTokens}) against an independent computation of its rule:
 * HF tokenizers (DJL, the Rust tokenizer) for the word pieces, the cuts made here, ONNX Runtime on the
 * jar's ONNX file for each part's token states, mean pooling, the token-weighted average and the
 * normalisation in double. Nothing of bertj takes part in the oracle.
 */
class PartitionOracleTest {
    static Path dir;
    static HuggingFaceTokenizer hf;
    static OrtEnvironment env;
    static OrtSession session;
    static int clsId, sepId;

    @BeforeAll
    static void load() throws Exception {
        System.setProperty("ai.djl.offline", "true");
        dir = Files.createTempDirectory("bertj-partition-oracle");
        Path onnx = dir.resolve("model.onnx"), json = dir.resolve("tokenizer.json");
        for (String[] r : new String[][] {{"/all-minilm-l6-v2.onnx", onnx.toString()}, {"/all-minilm-l6-v2-tokenizer.json", json.toString()}}) {
            try (InputStream in = PartitionOracleTest.class.getResourceAsStream(r[0])) {
                Files.copy(in, Path.of(r[1]), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        hf = HuggingFaceTokenizer.builder().optTokenizerPath(json).optAddSpecialTokens(false).optTruncation(false).optPadding(false).build();
        clsId = (int) hf.encode("[CLS]").getIds()[0];
        sepId = (int) hf.encode("[SEP]").getIds()[0];
        env = OrtEnvironment.getEnvironment();
        session = env.createSession(onnx.toString(), new OrtSession.SessionOptions());
    }

    @AfterAll
    static void close() throws Exception {
        session.close();
        hf.close();
    }

    /** The rule: parts of at most n pieces, each ending just before a word start (a piece without "##") when one is in reach. */
    static List<int[]> cuts(String[] pieces, int n) {
        List<int[]> parts = new ArrayList<>();
        int start = 0;
        do {
            int limit = Math.min(pieces.length, start + n), end = limit;
            if (limit < pieces.length) {
                int lastWordStart = -1;
                for (int j = start + 1; j <= limit; j++) if (!pieces[j].startsWith("##")) lastWordStart = j;
                if (lastWordStart > 0) end = lastWordStart;
            }
            parts.add(new int[] {start, end});
            start = end;
        } while (start < pieces.length);
        return parts;
    }

    /** The oracle's vector for {@code text}, and how many cuts the "##" rule moved (in {@code moved[0]}). */
    static double[] oracle(String text, int n, int[] moved) throws Exception {
        Encoding e = hf.encode(text);
        long[] ids = e.getIds();
        String[] pieces = e.getTokens();
        double[] sum = new double[384];
        double total = 0;
        for (int[] p : cuts(pieces, n)) {
            int len = p[1] - p[0];
            if (p[1] < pieces.length && len < n) moved[0]++;
            long[] seq = new long[len + 2];
            seq[0] = clsId;
            System.arraycopy(ids, p[0], seq, 1, len);
            seq[len + 1] = sepId;
            long[] shape = {1, seq.length};
            long[] ones = new long[seq.length], zeros = new long[seq.length];
            java.util.Arrays.fill(ones, 1);
            try (OnnxTensor in = OnnxTensor.createTensor(env, LongBuffer.wrap(seq), shape);
                 OnnxTensor mask = OnnxTensor.createTensor(env, LongBuffer.wrap(ones), shape);
                 OnnxTensor types = OnnxTensor.createTensor(env, LongBuffer.wrap(zeros), shape);
                 OrtSession.Result r = session.run(Map.of("input_ids", in, "attention_mask", mask, "token_type_ids", types))) {
                FloatBuffer fb = ((OnnxTensor) r.get("last_hidden_state").orElseThrow()).getFloatBuffer();
                double[] mean = new double[384];
                for (int t = 0; t < seq.length; t++) for (int i = 0; i < 384; i++) mean[i] += fb.get(t * 384 + i);
                for (int i = 0; i < 384; i++) sum[i] += len * (mean[i] / seq.length);
                total += len;
            }
        }
        double norm = 0;
        for (int i = 0; i < 384; i++) {
            sum[i] /= total;
            norm += sum[i] * sum[i];
        }
        for (int i = 0; i < 384; i++) sum[i] /= Math.sqrt(norm);
        return sum;
    }

    static void check(int maxSegmentTokens, List<String> texts, int minMoved) throws Exception {
        try (BertjEmbeddingModel m = BertjEmbeddingModel.builder().maxSegmentTokens(maxSegmentTokens).build()) {
            assertTrue(m.embedder().partitions());
            var got = m.embedAll(texts.stream().map(TextSegment::from).toList()).content();
            double worst = 0;
            int[] moved = {0};
            int pieces = 0;
            for (int t = 0; t < texts.size(); t++) {
                double[] want = oracle(texts.get(t), maxSegmentTokens, moved);
                float[] v = got.get(t).vector();
                for (int i = 0; i < 384; i++) worst = Math.max(worst, Math.abs(want[i] - v[i]));
                pieces = Math.max(pieces, hf.encode(texts.get(t)).getIds().length);
            }
            System.out.printf("PartitionOracleTest: maxSegmentTokens %d, %d texts up to %d word pieces, %d cuts moved by the ## rule:"
                    + " max abs diff vs ONNX Runtime + HF tokenizers %.3g%n", maxSegmentTokens, texts.size(), pieces, moved[0], worst);
            assertTrue(moved[0] >= minMoved, "the texts exercise the ## rule: " + moved[0] + " cuts moved");
            assertTrue(worst <= 1e-5, "max abs diff " + worst);
        }
    }

    @Test
    void longTextsPartitionedAt510AsTheRuleSays() throws Exception {
        List<String> longest = RealTexts.emails().stream().sorted(Comparator.comparingInt(String::length).reversed()).limit(2).toList();
        check(510, longest, 1);
    }

    @Test
    void shortPartsCutManyTimesNeverInsideAWord() throws Exception {
        check(40, RealTexts.emails().subList(0, 3), 5);
    }

    @Test
    void aModelWhoseTokenizerDoesNotTruncateIsPartitionedAt510AsLangchain4jWould() throws Exception {
        Path src;
        try (BertjEmbeddingModel m = BertjEmbeddingModel.allMiniLmL6V2()) {
            src = m.embedder().directory();
            assertFalse(m.embedder().partitions());
            assertEquals(128, m.embedder().maxLength(), "langchain4j's tokenizer.json truncates at 128");
        }
        Path copy = Files.createDirectories(dir.resolve("no-truncation"));
        for (String f : new String[] {"model.safetensors", "config.json", "vocab.txt", "tokenizer_config.json"}) {
            Files.copy(src.resolve(f), copy.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
        Map<String, Object> tj = new java.util.LinkedHashMap<>(Json.asObject(Json.parse(Files.readString(src.resolve("tokenizer.json"))), "tokenizer.json"));
        tj.put("truncation", null);
        Files.writeString(copy.resolve("tokenizer.json"), Json.write(tj));
        try (BertjEmbeddingModel m = BertjEmbeddingModel.builder().modelDir(copy).build()) {
            assertTrue(m.embedder().partitions());
            assertEquals(512, m.embedder().maxLength());
        }
    }
}
