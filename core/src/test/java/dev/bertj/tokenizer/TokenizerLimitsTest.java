package dev.bertj.tokenizer;

import dev.bertj.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Sizes from files and options are checked against stated limits before anything is allocated,
 * and malformed tokenizer files give a message naming the file and field (issue 13's reproductions).
 */
class TokenizerLimitsTest {
    static final BertTokenizer TOK = BertTokenizerTest.TOK;

    static void assertMessage(Throwable e, String... parts) {
        for (String p : parts) assertTrue(e.getMessage().contains(p), "'" + p + "' missing from: " + e.getMessage());
    }

    @Test
    void modelMaxLengthBeyondTheLimitIsRefusedNamingFileValueAndLimit(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("vocab.txt"), String.join("\n", BertTokenizerTest.TOKENS) + "\n");
        Path config = dir.resolve("tokenizer_config.json");
        for (String v : List.of("1e8", "100000000", "2147483646", "1048577")) {
            Files.writeString(config, "{\"model_max_length\": " + v + "}");
            TokenizerException e = assertThrows(TokenizerException.class, () -> BertTokenizer.fromPretrained(dir));
            assertMessage(e, config.toString(), "model_max_length", "1,048,576");
        }
        Files.writeString(config, "{\"model_max_length\": 100000000}");
        assertMessage(assertThrows(TokenizerException.class, () -> BertTokenizer.fromPretrained(dir)), "100,000,000");
        // HF's "no limit" (int(1e30)), and anything from 2^31 - 1 up, still reads as no limit.
        for (String v : List.of("1000000000000000019884624838656", "2147483647", "1e30")) {
            Files.writeString(config, "{\"model_max_length\": " + v + "}");
            assertEquals(Integer.MAX_VALUE, BertTokenizer.fromPretrained(dir).modelMaxLength(), v);
        }
        Files.writeString(config, "{\"model_max_length\": 1048576}");
        assertEquals(1 << 20, BertTokenizer.fromPretrained(dir).modelMaxLength());
        assertThrows(TokenizerException.class, () -> BertTokenizer.builder().tokens(BertTokenizerTest.TOKENS).modelMaxLength((1 << 20) + 1));
    }

    @Test
    void optionsBeyondTheLimitAreRefused() {
        for (Consumer<EncodeOptions.Builder> set : List.<Consumer<EncodeOptions.Builder>>of(
                b -> b.maxLength(Integer.MAX_VALUE), b -> b.padToMultipleOf((1 << 20) + 1),
                b -> b.truncation(EncodeOptions.Truncation.LONGEST_FIRST).stride(1 << 21))) {
            EncodeOptions.Builder b = EncodeOptions.builder();
            set.accept(b);
            assertMessage(assertThrows(TokenizerException.class, b::build), "1,048,576", "MAX_LENGTH_LIMIT");
        }
    }

    @Test
    void pairWindowsBeyondTheLimitAreRefusedBeforeAnyIsCut() {
        // Two ~8 KB texts at max_length 6-7 with a stride: HF builds every combination of the sides' windows.
        String text = "hello world a b ".repeat(512);
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            for (int[] lengthAndStride : new int[][] {{6, 0}, {7, 1}, {8, 1}}) {
                EncodeOptions o = EncodeOptions.builder().truncation(EncodeOptions.Truncation.LONGEST_FIRST)
                        .maxLength(lengthAndStride[0]).stride(lengthAndStride[1]).build();
                TokenizerException e = assertThrows(TokenizerException.class, () -> TOK.encode(text, text, o));
                assertMessage(e, "overflowing windows", "65,536", "MAX_OVERFLOWING_WINDOWS");
            }
        });
        // Below the limit the windows are all there: 1 + ceil((len - n) / (n - stride)) a side, every pair combined.
        String shortText = "a b ".repeat(60); // 120 tokens
        EncodeOptions o = EncodeOptions.builder().truncation(EncodeOptions.Truncation.LONGEST_FIRST).maxLength(23).stride(2).build();
        Encoding e = TOK.encode(shortText, shortText, o); // budget 20: 10 a side, step 8: 15 windows a side
        assertEquals(15 * 15 - 1, e.overflowing().size());
    }

    @Test
    void windowsAreLimitedPerEncodingAndPaddingPerCall() {
        // 65 items of 1,024 overflowing windows each: the window limit is per encoding, so a big batch is fine.
        String text = "a ".repeat(1025);
        EncodeOptions o = EncodeOptions.builder().truncation(EncodeOptions.Truncation.LONGEST_FIRST).maxLength(3).build();
        assertEquals(1024, TOK.encode(text, null, o).overflowing().size());
        List<Encoding> batch = TOK.encodeBatch(java.util.Collections.nCopies(65, text), o);
        assertEquals(65 * 1024, batch.stream().mapToInt(e -> e.overflowing().size()).sum());
        // Padding 100 texts to 2^20 tokens would add ~10^8 tokens (3 GB): refused before allocating.
        EncodeOptions pad = EncodeOptions.builder().padding(EncodeOptions.Padding.MAX_LENGTH).maxLength(1 << 20).build();
        assertMessage(assertThrows(TokenizerException.class, () -> TOK.encodeBatch(java.util.Collections.nCopies(100, "a"), pad)),
                "padding 100 encodings to 1,048,576 tokens", "MAX_EXTRA_TOKENS");
        assertEquals(1 << 20, TOK.encode("a", null, pad).length(), "one text padded to the limit is fine");
    }

    /** A minimal BERT tokenizer.json over the test vocabulary, to be broken one field at a time. */
    static Map<String, Object> tokenizerJson() {
        Map<String, Object> vocab = new LinkedHashMap<>();
        for (int i = 0; i < BertTokenizerTest.TOKENS.size(); i++) vocab.put(BertTokenizerTest.TOKENS.get(i), (long) i);
        Map<String, Object> model = new LinkedHashMap<>(Map.of("type", "WordPiece", "unk_token", "[UNK]", "vocab", vocab));
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("added_tokens", new ArrayList<>(List.of(Map.of("id", 0L, "content", "[PAD]"), Map.of("id", 1L, "content", "[UNK]"))));
        root.put("normalizer", Map.of("type", "BertNormalizer"));
        root.put("pre_tokenizer", Map.of("type", "BertPreTokenizer"));
        root.put("post_processor", new LinkedHashMap<>(Map.of("type", "BertProcessing",
                "cls", List.of("[CLS]", 2L), "sep", List.of("[SEP]", 3L))));
        root.put("model", model);
        return root;
    }

    static TokenizerException loadBroken(Path dir, Consumer<Map<String, Object>> breakIt) throws IOException {
        Map<String, Object> root = tokenizerJson();
        breakIt.accept(root);
        Path file = dir.resolve("tokenizer.json");
        Files.writeString(file, Json.writePretty(root));
        return assertThrows(TokenizerException.class, () -> BertTokenizer.fromPretrained(file));
    }

    @Test
    @SuppressWarnings("unchecked")
    void malformedTokenizerJsonFieldsAreNamed(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("tokenizer.json");
        Files.writeString(file, Json.writePretty(tokenizerJson()));
        assertEquals(List.of("[CLS]", "hello", "[SEP]"), List.of(BertTokenizer.fromPretrained(file).encode("Hello").tokens()));

        assertMessage(loadBroken(dir, r -> ((List<Object>) r.get("added_tokens")).add(Map.of("id", -1L, "content", "x"))),
                file.toString(), "added token 'x' has id -1");
        Map<String, Object> pp = (Map<String, Object>) tokenizerJson().get("post_processor");
        for (String field : List.of("cls", "sep")) {
            assertMessage(loadBroken(dir, r -> ((Map<String, Object>) r.get("post_processor")).put(field, List.of())),
                    file.toString(), "post_processor." + field, "[token, id]");
            assertMessage(loadBroken(dir, r -> ((Map<String, Object>) r.get("post_processor")).put(field, List.of("[CLS]", 7L))),
                    file.toString(), "post_processor." + field, "id 7");
        }
        assertEquals("BertProcessing", pp.get("type"));
        assertMessage(loadBroken(dir, r -> ((Map<String, Object>) r.get("model")).put("max_input_chars_per_word", 0L)),
                "model.max_input_chars_per_word");
    }

    @Test
    void longMarkRunsAreOrderedAsJavasNfdOrdersThem() {
        // Non-starters of many classes (Mn and Mc, BMP and astral): the JDK's NFD is the oracle for canonical ordering.
        int[] pool = {0x0301, 0x0316, 0x0323, 0x0334, 0x0345, 0x05B0, 0x05BC, 0x0653, 0x093C, 0x094D, 0x0E38, 0x0E48,
            0x302A, 0x302E, 0x302F, 0x1D165, 0x1D16D, 0x1DCE, 0x035C, 0x031B};
        for (int c : pool) assertTrue(CharRules.isNonStarter(c), Integer.toHexString(c));
        Random rnd = new Random(13);
        for (int n : new int[] {2, 15, 16, 17, 200, 3000}) {
            int[] run = new int[n];
            for (int i = 0; i < n; i++) run[i] = pool[rnd.nextInt(pool.length)];
            StringBuilder sb = new StringBuilder();
            for (int c : run) sb.appendCodePoint(c);
            int[] want = Normalizer.normalize(sb, Normalizer.Form.NFD).codePoints().toArray();
            WordSplitter.canonicalOrder(run, n);
            assertArrayEquals(want, run, "run of " + n);
        }
    }

    @Test
    void aMillionCombiningMarksInOneWordTakeLinearTime() {
        // Alternating classes 216 and 224 make insertion sort quadratic, each comparison a normalization.
        String zalgo = "a" + "\ud834\udd65\u302e".repeat(500_000);
        Encoding e = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> TOK.encode(zalgo));
        assertEquals(List.of("[CLS]", "[UNK]", "[SEP]"), List.of(e.tokens()));
        assertEquals(zalgo.length(), e.offsetEnds()[1]);
    }
}
