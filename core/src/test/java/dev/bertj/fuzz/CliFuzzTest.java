package dev.bertj.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.bertj.cli.Main;
import dev.bertj.io.Json;
import org.junit.jupiter.api.Timeout;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CLI's JSON Lines input: {@code ./bertj tokenize} with arbitrary options and arbitrary stdin
 * exits 0, 1 (bad input, one line on stderr naming the line or option) or 2 (usage), never with an
 * unexpected error; on success it writes one JSON encoding per input line.
 */
class CliFuzzTest {
    static final String[] OPTIONS = {"--max-length", "--truncation", "--padding", "--pad-to-multiple-of", "--padding-side",
        "--stride", "--no-special-tokens", "--bogus"};
    static final String[] VALUES = {"longest_first", "only_first", "only_second", "longest", "max_length", "left", "right",
        "true", "none", "0", "1", "3", "8", "128", "-1", "2147483647", "99999999999", "x", ""};

    static {
        // Class loading and one-time tables are not the input's allocation: pay them before measuring.
        try {
            Main.run(new String[] {"tokenize", "--tokenizer", vocab().toString(), "--max-length", "8", "--padding", "longest"},
                    new BufferedReader(new java.io.StringReader("\"warm up\"\n{\"text\": \"a\", \"text_pair\": \"b\"}\n")),
                    new PrintStream(new ByteArrayOutputStream()), new PrintStream(new ByteArrayOutputStream()));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static Path vocab() throws IOException {
        Path dir = Contract.dir("tokenizer_config.json");
        return Files.writeString(dir.resolve("cli-vocab.txt"), TokenizerFilesFuzzTest.VOCAB);
    }

    @FuzzTest
    @Timeout(10)
    void tokenizeJsonLines(FuzzedDataProvider d) throws IOException {
        List<String> args = new ArrayList<>(List.of("tokenize", "--tokenizer", vocab().toString()));
        int n = d.consumeInt(0, 4);
        for (int i = 0; i < n; i++) {
            args.add(d.pickValue(OPTIONS));
            if (d.consumeBoolean()) args.add(d.consumeBoolean() ? d.pickValue(VALUES) : d.consumeString(12));
        }
        byte[] stdin = d.consumeRemainingAsBytes();
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        long before = Contract.allocated();
        int status = Main.run(args.toArray(String[]::new),
                new BufferedReader(new InputStreamReader(new ByteArrayInputStream(stdin), StandardCharsets.UTF_8)),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        String stderr = err.toString(StandardCharsets.UTF_8);
        // Loading the vocabulary, the input, and the JSON written for it.
        Contract.allocationWithin(before, Contract.BASE_ALLOWANCE + 4096L * stdin.length + 16L * out.size(), "tokenize " + args);
        assertFalse(stderr.contains("unexpected error"), stderr);
        assertTrue(status >= 0 && status <= 2, "status " + status);
        if (status != 0) {
            assertTrue(stderr.startsWith("bertj "), "error without a message: " + stderr);
            return;
        }
        if (args.contains("--help") || args.contains("-h")) return; // the help text, not encodings
        String[] lines = out.toString(StandardCharsets.UTF_8).split("\n", -1);
        long inputLines = new BufferedReader(new InputStreamReader(new ByteArrayInputStream(stdin), StandardCharsets.UTF_8)).lines().count();
        assertEquals(inputLines, lines.length - 1, "one output line per input line");
        for (int i = 0; i < lines.length - 1; i++) {
            Map<String, Object> enc = Json.asObject(Json.parse(lines[i]), "output line " + (i + 1));
            assertEquals(Json.asArray(enc.get("input_ids"), "input_ids").size(), Json.asArray(enc.get("tokens"), "tokens").size());
        }
    }
}
