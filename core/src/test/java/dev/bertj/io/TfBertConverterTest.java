package dev.bertj.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bertj.io.TensorBundle.BundleException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Google's TF names onto HF's on a synthetic one-layer BERT (hidden 4, intermediate 6, vocabulary
 * 7) whose values are their own flat index plus a per-tensor offset, so every transpose and every
 * name can be checked element by element.
 */
class TfBertConverterTest {
    @TempDir
    Path dir;

    private static final int H = 4, I = 6, V = 7, P = 5;

    /** TF name -> TF shape of Google's BERT with one layer, MLM and NSP heads. */
    private static Map<String, long[]> tfShapes(String prefix) {
        Map<String, long[]> m = new java.util.LinkedHashMap<>();
        m.put(prefix + "bert/embeddings/word_embeddings", new long[] {V, H});
        m.put(prefix + "bert/embeddings/position_embeddings", new long[] {P, H});
        m.put(prefix + "bert/embeddings/token_type_embeddings", new long[] {2, H});
        m.put(prefix + "bert/embeddings/LayerNorm/gamma", new long[] {H});
        m.put(prefix + "bert/embeddings/LayerNorm/beta", new long[] {H});
        String l = prefix + "bert/encoder/layer_0/";
        for (String lin : List.of("attention/self/query", "attention/self/key", "attention/self/value", "attention/output/dense")) {
            m.put(l + lin + "/kernel", new long[] {H, H});
            m.put(l + lin + "/bias", new long[] {H});
        }
        m.put(l + "intermediate/dense/kernel", new long[] {H, I});
        m.put(l + "intermediate/dense/bias", new long[] {I});
        m.put(l + "output/dense/kernel", new long[] {I, H});
        m.put(l + "output/dense/bias", new long[] {H});
        for (String ln : List.of("attention/output/LayerNorm", "output/LayerNorm")) {
            m.put(l + ln + "/gamma", new long[] {H});
            m.put(l + ln + "/beta", new long[] {H});
        }
        m.put(prefix + "bert/pooler/dense/kernel", new long[] {H, H});
        m.put(prefix + "bert/pooler/dense/bias", new long[] {H});
        m.put(prefix + "cls/predictions/transform/dense/kernel", new long[] {H, H});
        m.put(prefix + "cls/predictions/transform/dense/bias", new long[] {H});
        m.put(prefix + "cls/predictions/transform/LayerNorm/gamma", new long[] {H});
        m.put(prefix + "cls/predictions/transform/LayerNorm/beta", new long[] {H});
        m.put(prefix + "cls/predictions/output_bias", new long[] {V});
        m.put(prefix + "cls/seq_relationship/output_weights", new long[] {2, H});
        m.put(prefix + "cls/seq_relationship/output_bias", new long[] {2});
        return m;
    }

    private static float[] values(int seed, long[] shape) {
        int n = 1;
        for (long d : shape) n *= (int) d;
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = seed * 1000 + i;
        return v;
    }

    private BundleWriter writer(Map<String, long[]> shapes) {
        BundleWriter w = new BundleWriter();
        int seed = 0;
        for (Map.Entry<String, long[]> e : shapes.entrySet()) w.floats(e.getKey(), e.getValue(), values(seed++, e.getValue()));
        return w;
    }

    private TensorBundle open(BundleWriter w) throws IOException {
        return TensorBundle.open(w.write(dir.resolve("ckpt").resolve("bert_model.ckpt")));
    }

    @Test
    void mapsEveryNameTransposesKernelsAndWritesTheTiedHeadAsHfDoes() throws IOException {
        Map<String, long[]> shapes = tfShapes("module/");
        BundleWriter w = writer(shapes);
        w.floats("module/bert/encoder/layer_0/attention/self/query/kernel/adam_m", new long[] {H, H}, values(99, new long[] {H, H}));
        w.int64("global_step", 7);
        try (TensorBundle b = open(w)) {
            TfBertConverter.Plan plan = TfBertConverter.plan(b, Map.of("num_attention_heads", 2L));
            assertEquals(List.of("global_step", "module/bert/encoder/layer_0/attention/self/query/kernel/adam_m"),
                    plan.skipped().stream().sorted().toList());
            TreeSet<String> expected = new TreeSet<>(List.of(
                    "bert.embeddings.word_embeddings.weight", "bert.embeddings.position_embeddings.weight",
                    "bert.embeddings.token_type_embeddings.weight", "bert.embeddings.LayerNorm.weight", "bert.embeddings.LayerNorm.bias",
                    "bert.pooler.dense.weight", "bert.pooler.dense.bias",
                    "cls.predictions.transform.dense.weight", "cls.predictions.transform.dense.bias",
                    "cls.predictions.transform.LayerNorm.weight", "cls.predictions.transform.LayerNorm.bias", "cls.predictions.bias",
                    "cls.seq_relationship.weight", "cls.seq_relationship.bias"));
            for (String p : List.of("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
                    "intermediate.dense", "output.dense")) {
                expected.add("bert.encoder.layer.0." + p + ".weight");
                expected.add("bert.encoder.layer.0." + p + ".bias");
            }
            for (String p : List.of("attention.output.LayerNorm", "output.LayerNorm")) {
                expected.add("bert.encoder.layer.0." + p + ".weight");
                expected.add("bert.encoder.layer.0." + p + ".bias");
            }
            assertEquals(List.copyOf(expected), List.copyOf(plan.tensors().keySet()), "HF names, sorted, no decoder.weight/decoder.bias");
            Map<String, Object> c = plan.config();
            assertEquals(List.of("BertForMaskedLM"), c.get("architectures"));
            assertEquals((long) H, c.get("hidden_size"));
            assertEquals((long) I, c.get("intermediate_size"));
            assertEquals((long) V, c.get("vocab_size"));
            assertEquals((long) P, c.get("max_position_embeddings"));
            assertEquals(2L, c.get("num_attention_heads"));
            assertEquals(1L, c.get("num_hidden_layers"));

            Path out = dir.resolve("model.safetensors");
            List<String> progress = new ArrayList<>();
            TfBertConverter.write(b, plan, out, (done, total, name) -> progress.add(done + "/" + total + " " + name));
            assertEquals(expected.size(), progress.size());
            try (SafeTensors st = SafeTensors.open(out)) {
                assertEquals(expected, new TreeSet<>(st.names()));
                int seed = 0;
                for (Map.Entry<String, long[]> e : shapes.entrySet()) {
                    float[] tf = values(seed++, e.getValue());
                    String hf = plan.tensors().values().stream().filter(m -> m.tfName().equals(e.getKey())).findFirst().orElseThrow().hfName();
                    float[] got = st.load(hf).data();
                    long[] s = e.getValue();
                    if (e.getKey().endsWith("/kernel")) {
                        int in = (int) s[0], outDim = (int) s[1];
                        assertArrayEquals(new int[] {outDim, in}, st.info(hf).shape(), hf);
                        for (int r = 0; r < in; r++) {
                            for (int col = 0; col < outDim; col++) assertEquals(tf[r * outDim + col], got[col * in + r], hf + " [" + col + "," + r + "]");
                        }
                    } else {
                        assertArrayEquals(tf, got, hf + " (from " + e.getKey() + ")");
                    }
                }
            }
        }
    }

    @Test
    void plainBertNamesAndGoogleHeadSize() throws IOException {
        Map<String, long[]> shapes = tfShapes("");
        try (TensorBundle b = open(writer(shapes))) {
            // Without a bert_config.json the head count is hidden_size / 64, which a 4-wide toy cannot split.
            BundleException e = assertThrows(BundleException.class, () -> TfBertConverter.plan(b, Map.of()));
            assertTrue(e.getMessage().contains("cannot split hidden size 4 into 0 attention heads"), e.getMessage());
            TfBertConverter.Plan plan = TfBertConverter.plan(b, Map.of("num_attention_heads", 1L, "hidden_act", "gelu"));
            assertTrue(plan.tensors().containsKey("bert.encoder.layer.0.output.dense.weight"));
            assertArrayEquals(new int[] {H, I}, plan.tensors().get("bert.encoder.layer.0.output.dense.weight").shape());
            e = assertThrows(BundleException.class, () -> TfBertConverter.plan(b, Map.of("num_attention_heads", 1L, "hidden_size", 8L)));
            assertTrue(e.getMessage().contains("bert_config.json says hidden_size = 8 but the weights have 4"), e.getMessage());
        }
    }

    @Test
    void missingWrongOrAmbiguousWeightsAreNamed() throws IOException {
        Map<String, long[]> shapes = tfShapes("");
        shapes.remove("bert/encoder/layer_0/attention/self/key/bias");
        try (TensorBundle b = open(writer(shapes))) {
            BundleException e = assertThrows(BundleException.class, () -> TfBertConverter.plan(b, Map.of("num_attention_heads", 1L)));
            assertTrue(e.getMessage().contains("bert_model.ckpt.index") && e.getMessage().contains("'bert/encoder/layer_0/attention/self/key/bias'"),
                    e.getMessage());
        }
        shapes = tfShapes("");
        shapes.put("bert/encoder/layer_0/intermediate/dense/bias", new long[] {I + 1});
        try (TensorBundle b = open(writer(shapes))) {
            BundleException e = assertThrows(BundleException.class, () -> TfBertConverter.plan(b, Map.of("num_attention_heads", 1L)));
            assertTrue(e.getMessage().contains("'bert/encoder/layer_0/intermediate/dense/bias' has shape [7]"), e.getMessage());
        }
        shapes = tfShapes("");
        shapes.put("module/bert/pooler/dense/bias", new long[] {H});
        try (TensorBundle b = open(writer(shapes))) {
            BundleException e = assertThrows(BundleException.class, () -> TfBertConverter.plan(b, Map.of("num_attention_heads", 1L)));
            assertTrue(e.getMessage().contains("both 'bert/pooler/dense/bias' and 'module/bert/pooler/dense/bias'"), e.getMessage());
        }
        shapes = tfShapes("");
        for (String k : List.copyOf(shapes.keySet())) {
            if (k.startsWith("bert/encoder/layer_0/")) shapes.put(k.replace("layer_0", "layer_2"), shapes.remove(k));
        }
        try (TensorBundle b = open(writer(shapes))) {
            BundleException e = assertThrows(BundleException.class, () -> TfBertConverter.plan(b, Map.of("num_attention_heads", 1L)));
            assertTrue(e.getMessage().contains("encoder layers [2] are not numbered 0..0"), e.getMessage());
        }
    }

    @Test
    void transposeOfAwkwardShapes() {
        for (int[] rc : new int[][] {{1, 1}, {1, 7}, {7, 1}, {33, 65}, {64, 32}}) {
            int r = rc[0], c = rc[1];
            float[] a = new float[r * c];
            for (int i = 0; i < a.length; i++) a[i] = i;
            float[] t = TfBertConverter.transpose(a, r, c);
            for (int i = 0; i < r; i++) for (int j = 0; j < c; j++) assertEquals(a[i * c + j], t[j * r + i]);
        }
    }
}
