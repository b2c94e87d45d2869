package dev.bertj.langchain4j;

import dev.bertj.tokenizer.BertTokenizer;
import dev.bertj.tokenizer.EncodeOptions;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link BertjEmbeddingModel#allMiniLmL6V2()} against langchain4j's own {@code AllMiniLmL6V2EmbeddingModel}
 * (ONNX Runtime and HF tokenizers, in this JVM) on real texts of every length: the same vectors, so
 * vectors stored with one stay valid with the other. The bertj model comes from an empty cache, so
 * this also converts it from the MiniLM jar on the test class path.
 */
class AllMiniLmParityTest {
    static AllMiniLmL6V2EmbeddingModel oracle;
    static BertjEmbeddingModel bertj;
    static List<String> texts;

    @BeforeAll
    static void load() throws Exception {
        System.setProperty("ai.djl.offline", "true"); // no call-home probe from DJL
        oracle = new AllMiniLmL6V2EmbeddingModel();
        bertj = BertjEmbeddingModel.allMiniLmL6V2();
        texts = RealTexts.ofEveryLength(25);
    }

    @AfterAll
    static void close() {
        bertj.close();
    }

    static float maxAbsDiff(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        float m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }

    @Test
    void sameVectorsAsLangchain4jOnRealTextsOfEveryLength() {
        List<TextSegment> segments = texts.stream().map(TextSegment::from).toList();
        List<Embedding> want = oracle.embedAll(segments).content();
        List<Embedding> got = bertj.embedAll(segments).content();
        assertEquals(texts.size(), got.size());
        BertTokenizer tok = bertj.embedder().tokenizer();
        // Worst difference per length bucket (tokens of the whole text, before truncation).
        TreeMap<Integer, float[]> buckets = new TreeMap<>();
        int[] edges = {16, 64, 128, 512, 1000, 2000, Integer.MAX_VALUE};
        float worst = 0;
        int over2000 = 0, under16 = 0;
        for (int i = 0; i < texts.size(); i++) {
            int tokens = tok.encode(texts.get(i), null, EncodeOptions.NONE).length();
            float d = maxAbsDiff(want.get(i).vector(), got.get(i).vector());
            worst = Math.max(worst, d);
            int edge = Arrays.stream(edges).filter(e -> tokens < e).findFirst().orElseThrow();
            float[] b = buckets.computeIfAbsent(edge, k -> new float[3]);
            b[0] = Math.max(b[0], d);
            b[1]++;
            b[2] = Math.max(b[2], tokens);
            if (tokens > 2000) over2000++;
            if (tokens < 16) under16++;
        }
        StringBuilder report = new StringBuilder("AllMiniLmParityTest: max abs diff vs langchain4j's AllMiniLmL6V2EmbeddingModel by text length:\n");
        buckets.forEach((edge, b) -> report.append(String.format("  < %-10s tokens: %3d texts (longest %5d): %.3g%n",
                edge == Integer.MAX_VALUE ? "any" : edge, (int) b[1], (int) b[2], b[0])));
        System.out.print(report.append(String.format("  all %d texts: %.3g%n", texts.size(), worst)));
        assertTrue(over2000 >= 5 && under16 >= 10, "texts of every length: " + under16 + " under 16 tokens, " + over2000 + " over 2,000");
        assertTrue(worst <= 1e-5f, "max abs diff " + worst + "\n" + report);
    }

    @Test
    void embedOneEqualsEmbedAllAndDimensionComesFromTheConfig() {
        assertEquals(384, bertj.dimension());
        float[] one = bertj.embed(texts.get(0)).content().vector();
        float[] all = bertj.embedAll(List.of(TextSegment.from(texts.get(0)), TextSegment.from(texts.get(3)))).content().get(0).vector();
        assertTrue(maxAbsDiff(one, all) <= 1e-6f, "alone vs in a batch: " + maxAbsDiff(one, all));
        assertTrue(maxAbsDiff(oracle.embed(texts.get(0)).content().vector(), one) <= 1e-5f);
    }

    @Test
    void manyThreadsOnOneModelGetIdenticalVectors() throws Exception {
        List<TextSegment> segments = texts.subList(0, 24).stream().map(TextSegment::from).toList();
        List<Embedding> want = bertj.embedAll(segments).content();
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try {
            List<Future<List<Embedding>>> runs = new ArrayList<>();
            for (int t = 0; t < 6; t++) runs.add(pool.submit(() -> bertj.embedAll(segments).content()));
            for (Future<List<Embedding>> f : runs) {
                List<Embedding> got = f.get();
                for (int i = 0; i < want.size(); i++) assertArrayEquals(want.get(i).vector(), got.get(i).vector(), 0f, "segment " + i);
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void aClosedModelSaysSo() throws Exception {
        BertjEmbeddingModel m = BertjEmbeddingModel.allMiniLmL6V2();
        m.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> m.embed("text"));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
    }
}
