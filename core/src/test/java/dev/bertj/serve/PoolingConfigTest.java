package dev.bertj.serve;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** sentence-transformers' 1_Pooling/config.json, as all-MiniLM-L6-v2 and bge models ship it. */
class PoolingConfigTest {
    @TempDir
    Path dir;

    static String config(boolean cls, boolean mean, boolean max) {
        return "{\"word_embedding_dimension\": 384, \"pooling_mode_cls_token\": " + cls + ", \"pooling_mode_mean_tokens\": " + mean
                + ", \"pooling_mode_max_tokens\": " + max + ", \"pooling_mode_mean_sqrt_len_tokens\": false}";
    }

    @Test
    void meanWithoutTheFileAndAsTheFileSays() throws Exception {
        assertEquals(PoolingConfig.MEAN, PoolingConfig.of(dir));
        Files.createDirectories(dir.resolve("1_Pooling"));
        Files.writeString(dir.resolve("1_Pooling/config.json"), config(true, false, false));
        assertEquals(PoolingConfig.CLS, PoolingConfig.of(dir));
        assertEquals("cls", PoolingConfig.CLS.id());
        Files.writeString(dir.resolve("1_Pooling/config.json"), config(false, true, false));
        assertEquals(PoolingConfig.MEAN, PoolingConfig.of(dir));
    }

    @Test
    void aPoolingBertjDoesNotComputeIsRefusedNamingTheKey() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PoolingConfig.parse(config(false, false, true), "p.json"));
        assertTrue(e.getMessage().contains("p.json") && e.getMessage().contains("pooling_mode_max_tokens"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> PoolingConfig.parse(config(true, true, false), "p.json"));
        assertTrue(e.getMessage().contains("exactly one"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> PoolingConfig.parse(config(false, false, false), "p.json"));
        assertTrue(e.getMessage().contains("none"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> PoolingConfig.parse("[1]", "p.json"));
    }
}
