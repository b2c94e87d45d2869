package dev.bertj.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.bertj.io.Json;
import dev.bertj.model.BertConfig;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** config.json: any bytes read or fail naming the file; a config that reads writes and reads back equal. */
class ConfigFuzzTest {
    @FuzzTest
    @Timeout(10)
    void configJson(byte[] input) throws IOException {
        Path file = Contract.write("config.json", input);
        long before = Contract.allocated();
        BertConfig c = Contract.expect(() -> BertConfig.read(file), file.toString(), IOException.class, IllegalArgumentException.class);
        Contract.allocationWithin(before, Contract.BASE_ALLOWANCE + 256L * input.length, "BertConfig.read");
        if (c == null) return;
        // Every typed field reads without an error once the config is accepted: read() checked them, naming the file.
        c.numHiddenLayers();
        c.layerNormEps();
        c.id2label();
        c.label2id();
        c.classifierDropout();
        c.hiddenDropoutProb();
        c.attentionProbsDropoutProb();
        c.initializerRange();
        c.padTokenId();
        Path again = Contract.dir("again.json").resolve("again.json");
        c.write(again);
        assertEquals(c.toMap(), BertConfig.read(again).toMap());
        assertEquals(Json.parse(c.toJson()), c.toMap());
    }
}
