package dev.bertj.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.bertj.io.OnnxBertConverter;
import dev.bertj.io.OnnxModel;
import dev.bertj.model.BertConfig;
import dev.bertj.tensor.Tensor;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * ONNX: any bytes read and convert, or fail naming the file; a conversion's weights have the shapes
 * its config implies, and that config is one bertj accepts or refuses with a message.
 */
class OnnxFuzzTest {
    static final Path SOURCE = Path.of("fuzz.onnx");

    @FuzzTest
    @Timeout(10)
    void onnx(byte[] input) {
        long before = Contract.allocated();
        OnnxModel model = Contract.expect(() -> OnnxModel.read(input, SOURCE), "fuzz.onnx: ", OnnxModel.OnnxException.class);
        if (model == null) return;
        OnnxBertConverter.Converted c = Contract.expect(() -> OnnxBertConverter.convert(model), "fuzz.onnx: ",
                OnnxBertConverter.ConversionException.class);
        // Decoded weights are at most the file's data widened (FLOAT16 to float) and once transposed.
        Contract.allocationWithin(before, Contract.BASE_ALLOWANCE + 64L * input.length, "ONNX read and convert");
        if (c == null) return;
        Map<String, Object> cfg = c.config();
        long h = (Long) cfg.get("hidden_size"), v = (Long) cfg.get("vocab_size"), layers = (Long) cfg.get("num_hidden_layers");
        Tensor word = c.weights().get("embeddings.word_embeddings.weight");
        assertArrayEquals(new int[] {(int) v, (int) h}, word.shape());
        assertEquals(5 + 16 * layers + (c.weights().containsKey("pooler.dense.weight") ? 2 : 0), c.weights().size());
        assertEquals(0, h % (Long) cfg.get("num_attention_heads"));
        Contract.expect(() -> BertConfig.of(cfg), null, IllegalArgumentException.class);
    }
}
