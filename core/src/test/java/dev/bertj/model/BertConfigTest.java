package dev.bertj.model;

import dev.bertj.io.SafeTensorsWriter;
import dev.bertj.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BertConfigTest {
    static final Map<String, Object> TINY = Map.of("vocab_size", 10L, "hidden_size", 8L, "num_hidden_layers", 1L,
            "num_attention_heads", 2L, "intermediate_size", 6L, "max_position_embeddings", 5L);

    @Test
    void unknownKeysAndLabelsSurviveARoundTrip(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("config.json");
        Files.writeString(f, "{\"hidden_size\": 8, \"num_attention_heads\": 2, \"my_key\": {\"nested\": [1, 2]},"
                + " \"id2label\": {\"0\": \"neg\", \"1\": \"pos\"}, \"label2id\": {\"neg\": 0, \"pos\": 1}}");
        BertConfig c = BertConfig.read(f);
        assertEquals(Map.of(0, "neg", 1, "pos"), c.id2label());
        assertEquals(Map.of("neg", 0, "pos", 1), c.label2id());
        c.write(dir.resolve("again.json"));
        BertConfig again = BertConfig.read(dir.resolve("again.json"));
        assertEquals(c.toMap(), again.toMap());
        assertEquals(Map.of("nested", List.of(1L, 2L)), again.toMap().get("my_key"));
        assertEquals(0.1f, again.classifierDropout(), "classifier_dropout null falls back to hidden_dropout_prob");
    }

    @Test
    void badConfigsNameTheFileAndTheField(@TempDir Path dir) throws Exception {
        Path heads = Files.writeString(dir.resolve("config.json"), "{\"hidden_size\": 10, \"num_attention_heads\": 3}");
        String m1 = assertThrows(IllegalArgumentException.class, () -> BertConfig.read(heads)).getMessage();
        assertTrue(m1.contains("config.json") && m1.contains("not a multiple of num_attention_heads"), m1);
        Path act = Files.writeString(dir.resolve("act.json"), "{\"hidden_act\": \"swish\"}");
        String m2 = assertThrows(IllegalArgumentException.class, () -> BertConfig.read(act)).getMessage();
        assertTrue(m2.contains("act.json") && m2.contains("swish"), m2);
        Path type = Files.writeString(dir.resolve("type.json"), "{\"vocab_size\": \"many\"}");
        String m3 = assertThrows(IllegalArgumentException.class, () -> BertConfig.read(type)).getMessage();
        assertTrue(m3.contains("type.json") && m3.contains("vocab_size"), m3);
    }

    @Test
    void weightShapeMismatchAndMissingFilesAreClear(@TempDir Path dir) throws Exception {
        BertConfig c = BertConfig.of(TINY);
        c.write(dir.resolve("config.json"));
        Map<String, Tensor> w = new LinkedHashMap<>();
        w.put("embeddings.word_embeddings.weight", Tensor.zeros(10, 16));
        SafeTensorsWriter.write(dir.resolve("model.safetensors"), w, null);
        String m = assertThrows(IllegalArgumentException.class, () -> BertModel.fromPretrained(dir)).getMessage();
        assertTrue(m.contains("model.safetensors") && m.contains("embeddings.word_embeddings.weight")
                && m.contains("[10, 16]") && m.contains("[10, 8]"), m);
        Path empty = Files.createDirectory(dir.resolve("empty"));
        String m2 = assertThrows(java.nio.file.NoSuchFileException.class, () -> BertModel.fromPretrained(empty)).getMessage();
        assertTrue(m2.contains("config.json"), m2);
    }

    @Test
    void sequenceLongerThanPositionsIsRefused() {
        BertModel m = BertModel.of(BertConfig.of(TINY), Map.of(), 1);
        String msg = assertThrows(IllegalArgumentException.class, () -> m.forward(new int[6], null, null, 1, 6, false, false)).getMessage();
        assertTrue(msg.contains("longer than max_position_embeddings 5"), msg);
        String ids = assertThrows(IllegalArgumentException.class, () -> m.forward(new int[] {1, 99}, null, null, 1, 2, false, false)).getMessage();
        assertTrue(ids.contains("input_ids[0][1] = 99"), ids);
    }
}
