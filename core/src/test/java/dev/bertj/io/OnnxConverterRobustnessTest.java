package dev.bertj.io;

import dev.bertj.io.OnnxBertConverter.ConversionException;
import dev.bertj.io.OnnxBertConverter.Converted;
import dev.bertj.io.OnnxModel.OnnxException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The converter on {@link TinyOnnx}'s one-layer export, then on the malformed graphs issue 13's
 * fuzzing found (each used to escape as a bare JDK exception): every one converts or fails with a
 * message naming the file and the tensor or field.
 */
class OnnxConverterRobustnessTest {
    static final Path SRC = Path.of("tiny.onnx");

    static Converted convert(TinyOnnx m) throws OnnxException {
        return OnnxBertConverter.convert(OnnxModel.read(m.bytes(), SRC));
    }

    static TinyOnnx broken(Consumer<TinyOnnx> breakIt) {
        TinyOnnx m = TinyOnnx.bert();
        breakIt.accept(m);
        return m;
    }

    static void assertMessage(Throwable e, String... parts) {
        for (String p : parts) assertTrue(e.getMessage().contains(p), "'" + p + "' missing from: " + e.getMessage());
    }

    @Test
    void theTinyExportConverts() throws OnnxException {
        Converted c = convert(TinyOnnx.bert());
        assertEquals(4L, c.config().get("hidden_size"));
        assertEquals(2L, c.config().get("num_attention_heads"));
        assertEquals(1L, c.config().get("num_hidden_layers"));
        assertEquals(8L, c.config().get("intermediate_size"));
        assertEquals(10L, c.config().get("vocab_size"));
        assertEquals(8L, c.config().get("max_position_embeddings"));
        assertEquals(2L, c.config().get("type_vocab_size"));
        assertEquals(1e-12, c.config().get("layer_norm_eps"));
        assertEquals("gelu", c.config().get("hidden_act"));
        assertEquals(5 + 16, c.weights().size());
        // intermediate.dense is [in 4, out 8] in the graph, [8, 4] in HF: element [o][i] is graph [i][o].
        float[] graph = TinyOnnx.bert().inits.get("onnx::MatMul_704").floats();
        float[] hf = c.weights().get("encoder.layer.0.intermediate.dense.weight").data();
        assertArrayEquals(new int[] {8, 4}, c.weights().get("encoder.layer.0.intermediate.dense.weight").shape());
        for (int o = 0; o < 8; o++) for (int i = 0; i < 4; i++) assertEquals(graph[i * 8 + o], hf[o * 4 + i]);
    }

    @Test
    void aMatMulWithoutOutputsIsSkipped() throws OnnxException {
        TinyOnnx m = broken(t -> t.nodes.replaceAll(n -> n.op().equals("MatMul")
                ? new TinyOnnx.Node(n.inputs(), List.of(), n.name(), n.op()) : n));
        assertEquals(5 + 16, convert(m).weights().size(), "the biases still come by name");
    }

    @Test
    void aReduceMeanWithoutInputsIsSkipped() throws OnnxException {
        TinyOnnx m = broken(t -> t.nodes.replaceAll(n -> n.op().equals("ReduceMean")
                ? new TinyOnnx.Node(List.of(), n.outputs(), n.name(), n.op()) : n));
        assertEquals(1e-12, convert(m).config().get("layer_norm_eps"), "the LayerNormalization node still gives it");
    }

    @Test
    void aLayerIndexBeyondIntIsNamed() {
        TinyOnnx m = broken(t -> t.floats("encoder.layer.99999999999.attention.self.query.bias", new float[4], 4));
        assertMessage(assertThrows(ConversionException.class, () -> convert(m)), "tiny.onnx",
                "encoder.layer.99999999999.attention.self.query.bias", "layer index 99999999999");
        TinyOnnx far = broken(t -> t.floats("encoder.layer.5.attention.self.query.bias", new float[4], 4));
        assertMessage(assertThrows(ConversionException.class, () -> convert(far)), "layers [1, 2, 3, 4] are missing");
    }

    @Test
    void aRankOneWordEmbeddingIsNamed() {
        TinyOnnx m = broken(t -> t.floats("embeddings.word_embeddings.weight", new float[40], 40));
        assertMessage(assertThrows(ConversionException.class, () -> convert(m)), "tiny.onnx",
                "embeddings.word_embeddings.weight has shape [40], expected a matrix [vocab_size, hidden_size]");
        TinyOnnx inter = broken(t -> t.floats("encoder.layer.0.intermediate.dense.weight", new float[1], 1, 1, 1));
        assertMessage(assertThrows(ConversionException.class, () -> convert(inter)),
                "encoder.layer.0.intermediate.dense.weight has shape [1, 1, 1]");
    }

    @Test
    void aDimBeyondIntIsRefusedEvenWithoutElements() {
        TinyOnnx m = broken(t -> t.floats("embeddings.LayerNorm.bias", new float[0], 0, 1L << 40));
        assertMessage(assertThrows(OnnxException.class, () -> convert(m)), "tiny.onnx", "embeddings.LayerNorm.bias", "beyond 2^31 - 1");
    }

    @Test
    void aNonPositiveEpsilonIsRefused() throws IOException {
        TinyOnnx m = broken(t -> {
            t.floats("eps", new float[] {Float.NaN});
            t.nodes.removeIf(n -> n.op().equals("LayerNormalization"));
        });
        assertMessage(assertThrows(ConversionException.class, () -> convert(m)), "layer_norm_eps NaN");
    }
}
