package dev.bertj.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * config.json sizes are checked against stated limits when read (issue 13: a config with
 * num_hidden_layers 34,243 or 2^31 - 1 spent minutes initialising missing layers).
 */
class BertConfigLimitsTest {
    static String refused(Path dir, String json) throws Exception {
        Path f = Files.writeString(dir.resolve("config.json"), json);
        return assertTimeoutPreemptively(Duration.ofSeconds(5),
                () -> assertThrows(IllegalArgumentException.class, () -> BertConfig.read(f)).getMessage());
    }

    static void assertMessage(String m, String... parts) {
        for (String p : parts) assertTrue(m.contains(p), "'" + p + "' missing from: " + m);
    }

    @Test
    void layerCountsFromTheIssueAreRefusedNamingFileFieldAndLimit(@TempDir Path dir) throws Exception {
        for (String n : new String[] {"34243", "2147483647", "257"}) {
            String m = refused(dir, "{\"num_hidden_layers\": " + n + "}");
            assertMessage(m, "config.json", "num_hidden_layers", "limit of 256");
        }
        assertMessage(refused(dir, "{\"num_hidden_layers\": 34243}"), "34,243");
        Path ok = Files.writeString(dir.resolve("ok.json"), "{\"num_hidden_layers\": 256, \"hidden_size\": 64,"
                + " \"num_attention_heads\": 1, \"intermediate_size\": 64}");
        assertEquals(256, BertConfig.read(ok).numHiddenLayers());
    }

    @Test
    void everySizeHasALimit(@TempDir Path dir) throws Exception {
        assertMessage(refused(dir, "{\"hidden_size\": 131072, \"num_attention_heads\": 1}"), "hidden_size", "65,536");
        assertMessage(refused(dir, "{\"intermediate_size\": 300000}"), "intermediate_size", "262,144");
        assertMessage(refused(dir, "{\"vocab_size\": 16777217}"), "vocab_size", "16,777,216");
        assertMessage(refused(dir, "{\"max_position_embeddings\": 1048577}"), "max_position_embeddings", "1,048,576");
        assertMessage(refused(dir, "{\"type_vocab_size\": 65537}"), "type_vocab_size", "65,536");
    }

    @Test
    void combinationsBeyondOneArrayOrTheParameterLimitAreRefused(@TempDir Path dir) throws Exception {
        assertMessage(refused(dir, "{\"vocab_size\": 16777216, \"hidden_size\": 1024, \"num_attention_heads\": 16}"),
                "vocab_size 16,777,216 x hidden_size 1,024", "one Java array");
        assertMessage(refused(dir, "{\"num_hidden_layers\": 256, \"hidden_size\": 4096, \"num_attention_heads\": 16,"
                + " \"intermediate_size\": 16384}"), "parameters", "MAX_PARAMETERS");
        assertMessage(refused(dir, "{\"layer_norm_eps\": -1}"), "layer_norm_eps");
        // BERT-large is well inside every limit.
        Path large = Files.writeString(dir.resolve("large.json"), "{\"num_hidden_layers\": 24, \"hidden_size\": 1024,"
                + " \"num_attention_heads\": 16, \"intermediate_size\": 4096}");
        assertEquals(24, BertConfig.read(large).numHiddenLayers());
    }
}
