package dev.bertj.api;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The one pooling every door uses: read from sentence-transformers' files, and applied over real tokens only. */
class PoolingTest {
    @TempDir
    Path dir;

    static String config(boolean cls, boolean mean, boolean max) {
        return "{\"word_embedding_dimension\": 384, \"pooling_mode_cls_token\": " + cls + ", \"pooling_mode_mean_tokens\": " + mean
                + ", \"pooling_mode_max_tokens\": " + max + ", \"pooling_mode_mean_sqrt_len_tokens\": false}";
    }

    @Test
    void meanWithoutFilesThenAsThe1PoolingConfigSaysEvenWithoutModulesJson() throws Exception {
        assertEquals(Pooling.MEAN, Pooling.of(dir));
        Files.createDirectories(dir.resolve("1_Pooling"));
        Files.writeString(dir.resolve("1_Pooling/config.json"), config(true, false, false));
        assertEquals(Pooling.CLS, Pooling.of(dir));
        assertEquals("cls", Pooling.CLS.id());
        Files.writeString(dir.resolve("1_Pooling/config.json"), config(false, false, true));
        assertEquals(Pooling.MAX, Pooling.of(dir));
        Files.writeString(dir.resolve("1_Pooling/config.json"), config(false, true, false));
        assertEquals(Pooling.MEAN, Pooling.of(dir));
    }

    @Test
    void aPoolingBertjDoesNotComputeOrAmbiguousConfigIsRefusedNamingFileAndKeys() throws Exception {
        Files.createDirectories(dir.resolve("1_Pooling"));
        Path f = dir.resolve("1_Pooling/config.json");
        Files.writeString(f, config(true, true, false));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Pooling.of(dir));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("pooling_mode_cls_token, pooling_mode_mean_tokens"), e.getMessage());
        Files.writeString(f, config(false, false, false));
        e = assertThrows(IllegalArgumentException.class, () -> Pooling.of(dir));
        assertTrue(e.getMessage().contains("none"), e.getMessage());
        Files.writeString(f, "{\"pooling_mode_mean_sqrt_len_tokens\": true}");
        e = assertThrows(IllegalArgumentException.class, () -> Pooling.of(dir));
        assertTrue(e.getMessage().contains("pooling_mode_mean_sqrt_len_tokens"), e.getMessage());
        Files.writeString(f, "[1]");
        assertThrows(IllegalArgumentException.class, () -> Pooling.of(dir));
    }

    /** Two rows of 3 tokens, h = 2; row 1's last token is padding with a large value that must never count. */
    @Test
    void eachModeUsesOnlyRealTokens() {
        float[] hidden = {1, -4, 3, 2, -5, 6, /* row 1 */ 0, 1, -2, 7, 100, 100};
        int[] mask = {1, 1, 1, 1, 1, 0};
        assertArrayEquals(new float[] {-1f / 3, 4f / 3, -1, 4}, Pooling.MEAN.pool(hidden, mask, 2, 3, 2), 1e-6f);
        assertArrayEquals(new float[] {1, -4, 0, 1}, Pooling.CLS.pool(hidden, mask, 2, 3, 2));
        assertArrayEquals(new float[] {3, 6, 0, 7}, Pooling.MAX.pool(hidden, mask, 2, 3, 2));
    }
}
