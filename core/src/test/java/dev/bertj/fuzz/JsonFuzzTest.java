package dev.bertj.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.bertj.io.Json;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Json: any text parses or fails with source:line:column; what parses writes and parses back equal. */
class JsonFuzzTest {
    @FuzzTest
    @Timeout(10)
    void json(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        long before = Contract.allocated();
        Object v = Contract.expect(() -> Json.parse(text, "fuzz.json"), "fuzz.json:", Json.JsonException.class);
        Contract.allocationWithin(before, Contract.BASE_ALLOWANCE + 256L * text.length(), "Json.parse");
        if (v == null && !text.strip().equals("null") && !text.strip().equals("\ufeffnull")) return;
        // Oracle: Python-style writing is the inverse of parsing (doubles print in their shortest exact form).
        assertEquals(v, Json.parse(Json.write(v)), "compact round trip");
        assertEquals(v, Json.parse(Json.writePretty(v)), "pretty round trip");
    }
}
