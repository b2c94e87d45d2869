package dev.bertj.tests;

import dev.bertj.cli.Main;
import dev.bertj.io.Json;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code ./bertj tokenize} end to end: its JSON output equals HF's encodings, and bad lines are named. */
class TokenizeCommandTest {
    record Result(int status, String out, String err) { }

    static Result run(String stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int status = Main.run(args, new BufferedReader(new StringReader(stdin)),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static long[] longs(Object jsonArray) {
        List<Object> l = Json.asArray(jsonArray, "array");
        long[] r = new long[l.size()];
        for (int i = 0; i < r.length; i++) r[i] = l.get(i) == null ? -1 : Json.asLong(l.get(i), "element");
        return r;
    }

    @Test
    void outputEqualsHuggingFaceWithPaddingAndTruncation() {
        String tokenizer = HfOracle.uncasedTokenizerJson().toString();
        String in = """
                "Tokenization is the process of splitting sequence to tokens"
                {"text": "I like BUAN6342", "text_pair": "Héllo wörld! 中文 😀"}
                {"text": "[CLS] written in, naïve café"}
                """;
        Result r = run(in, "tokenize", "--tokenizer", tokenizer, "--max-length", "12", "--padding", "longest");
        assertEquals(0, r.status(), r.err());
        String[] lines = r.out().split("\n");
        assertEquals(3, lines.length);
        List<String> texts = List.of("Tokenization is the process of splitting sequence to tokens", "I like BUAN6342",
                "[CLS] written in, naïve café");
        List<String> pairs = new ArrayList<>();
        pairs.add(null);
        pairs.add("Héllo wörld! 中文 😀");
        pairs.add(null);
        try (HfOracle hf = HfOracle.builder().truncation(HfOracle.Truncation.LONGEST_FIRST).maxLength(12)
                .padding(HfOracle.Padding.LONGEST).build()) {
            for (int i = 0; i < 3; i++) {
                @SuppressWarnings("unchecked")
                Map<String, Object> got = (Map<String, Object>) Json.parse(lines[i]);
                HfOracle.Enc want = pairs.get(i) == null ? hf.encode(texts.get(i)) : hf.encode(texts.get(i), pairs.get(i));
                // Padding to the longest of all lines: HF pads the batch, here every line is 12 long.
                assertEquals(12, longs(got.get("input_ids")).length);
                long[] ids = longs(got.get("input_ids"));
                long[] wantIds = java.util.Arrays.copyOf(want.ids(), 12);
                assertArrayEquals(wantIds, ids, "line " + (i + 1));
                assertArrayEquals(java.util.Arrays.copyOf(want.typeIds(), 12), longs(got.get("token_type_ids")));
                long[] mask = longs(got.get("attention_mask"));
                assertEquals(want.ids().length, java.util.Arrays.stream(mask).sum());
                List<Object> offsets = Json.asArray(got.get("offsets"), "offsets");
                for (int t = 0; t < want.ids().length; t++) {
                    long[] se = longs(offsets.get(t));
                    assertEquals(want.offsetStart()[t], se[0], "line " + (i + 1) + " token " + t);
                    assertEquals(want.offsetEnd()[t], se[1], "line " + (i + 1) + " token " + t);
                }
                assertEquals(List.of(want.tokens()), Json.asArray(got.get("tokens"), "tokens").subList(0, want.ids().length));
            }
        }
    }

    @Test
    void noOptionsMeansNoTruncationNoPadding() {
        String tokenizer = HfOracle.uncasedTokenizerJson().toString();
        String longText = "word ".repeat(600);
        Result r = run("\"" + longText + "\"\n\"short\"\n", "tokenize", "--tokenizer", tokenizer);
        assertEquals(0, r.status(), r.err());
        String[] lines = r.out().split("\n");
        assertEquals(602, longs(((Map<?, ?>) Json.parse(lines[0])).get("input_ids")).length);
        assertEquals(3, longs(((Map<?, ?>) Json.parse(lines[1])).get("input_ids")).length);
    }

    @Test
    void strideWritesOverflowingWindows() {
        String tokenizer = HfOracle.uncasedTokenizerJson().toString();
        Result r = run("\"one two three four five six seven eight nine ten\"\n", "tokenize", "--tokenizer", tokenizer,
                "--max-length", "6", "--stride", "1");
        assertEquals(0, r.status(), r.err());
        Map<?, ?> m = (Map<?, ?>) Json.parse(r.out().strip());
        try (HfOracle hf = HfOracle.builder().truncation(HfOracle.Truncation.LONGEST_FIRST).maxLength(6).stride(1).build()) {
            HfOracle.Enc want = hf.encode("one two three four five six seven eight nine ten");
            assertArrayEquals(want.ids(), longs(m.get("input_ids")));
            List<Object> over = Json.asArray(m.get("overflowing"), "overflowing");
            assertEquals(want.overflowing().size(), over.size());
            for (int i = 0; i < over.size(); i++) {
                assertArrayEquals(want.overflowing().get(i).ids(), longs(((Map<?, ?>) over.get(i)).get("input_ids")));
            }
        }
    }

    @Test
    void badLinesAreNamedAndFailTheCommand() {
        String tokenizer = HfOracle.uncasedTokenizerJson().toString();
        Result r = run("\"fine\"\n{\"txt\": 1}\n", "tokenize", "--tokenizer", tokenizer);
        assertEquals(1, r.status());
        assertTrue(r.err().contains("stdin line 2") && r.err().contains("\"text\""), r.err());
        Result bad = run("\"ok\"\n{broken\n", "tokenize", "--tokenizer", tokenizer);
        assertEquals(1, bad.status());
        assertTrue(bad.err().contains("stdin line 2, column 2"), bad.err());
        Result usage = run("", "tokenize", "--tokenizer", tokenizer, "--padding", "sideways");
        assertEquals(2, usage.status());
        assertTrue(usage.err().contains("sideways"), usage.err());
        Result missing = run("", "tokenize", "--tokenizer", "no/such/vocab.txt");
        assertEquals(1, missing.status());
        assertTrue(missing.err().contains("no/such/vocab.txt"), missing.err());
    }

    @Test
    void helpDescribesEveryCommand() {
        Result top = run("", "--help");
        assertEquals(0, top.status());
        assertTrue(top.out().contains("tokenize") && top.out().contains("demo"), top.out());
        Result tok = run("", "tokenize", "--help");
        for (String flag : List.of("--tokenizer", "--max-length", "--truncation", "--padding", "--pad-to-multiple-of", "--stride",
                "--no-special-tokens")) {
            assertTrue(tok.out().contains(flag), flag);
        }
    }
}
