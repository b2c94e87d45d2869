package dev.bertj.tests;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.bertj.io.Json;
import dev.bertj.tokenizer.BertNormalizer;
import dev.bertj.tokenizer.BertTokenizer;
import dev.bertj.tokenizer.TokenizerJson;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The tokenizer.json that {@code convert --tf-checkpoint} writes from a bare vocab.txt, checked
 * against HF's own: all-MiniLM-L6-v2 ships bert-base-uncased's tokenizer.json, and the one bertj
 * generates from the same vocabulary must equal it in everything but the truncation/padding that
 * MiniLM's sets (null here, as in bert-base-uncased's). HF tokenizers (Rust, via DJL) reading the
 * generated file gives the notebook's ids and agrees with bertj on varied texts.
 */
class GeneratedTokenizerJsonTest {
    static final List<String> TEXTS = List.of(NotebookTokenizerTest.FIRST, NotebookTokenizerTest.SECOND,
            "Héllo, WORLD!!  naïve café", "中文字符 and 日本語", "don't stop-believing: 3.14159 $100", "unaffable antidisestablishmentarianism",
            "[MASK] is [SEP] here", "tabs\tand\nnewlines", "ǅemal ŉ ΐ İstanbul");

    static Path generate(BertNormalizer normalizer) throws Exception {
        BertTokenizer shipped = BertTokenizer.fromPretrained(HfOracle.uncasedTokenizerJson());
        // As convert does: the vocabulary alone, then the normalizer the checkpoint says.
        BertTokenizer fromVocab = BertTokenizer.builder().tokens(shipped.vocab().tokens()).normalizer(normalizer).modelMaxLength(512).build();
        Path file = Files.createTempDirectory("bertj-tokjson").resolve("tokenizer.json");
        Files.writeString(file, TokenizerJson.of(fromVocab));
        return file;
    }

    @Test
    void equalsHfsBertBaseUncasedTokenizerJsonButTruncationAndPadding() throws Exception {
        Map<String, Object> got = Json.asObject(Json.parse(Files.readString(generate(BertNormalizer.UNCASED))), "generated");
        Map<String, Object> want = Json.asObject(Json.parse(Files.readString(HfOracle.uncasedTokenizerJson())), "MiniLM's");
        assertEquals(List.copyOf(want.keySet()), List.copyOf(got.keySet()));
        for (String k : want.keySet()) {
            if (k.equals("truncation") || k.equals("padding")) {
                assertNull(got.get(k), k);
            } else {
                assertEquals(want.get(k), got.get(k), k);
            }
        }
        // Same vocabulary order too (ids are dense, but HF writes them in id order).
        assertEquals(List.copyOf(Json.asObject(Json.asObject(want.get("model"), "m").get("vocab"), "v").keySet()),
                List.copyOf(Json.asObject(Json.asObject(got.get("model"), "m").get("vocab"), "v").keySet()));
    }

    @Test
    void hfTokenizersReadsItAndGivesTheNotebooksIds() throws Exception {
        for (BertNormalizer n : List.of(BertNormalizer.UNCASED, BertNormalizer.CASED)) {
            Path file = generate(n);
            BertTokenizer bertj = BertTokenizer.fromPretrained(file);
            try (HuggingFaceTokenizer hf = HuggingFaceTokenizer.builder().optTokenizerPath(file)
                    .optTruncation(false).optPadding(false).build()) {
                if (n.lowercase()) {
                    assertArrayEquals(new long[] {101, 19204, 3989, 2003, 1996, 2832, 1997, 14541, 5537, 2000, 19204, 2015, 102},
                            hf.encode(NotebookTokenizerTest.FIRST).getIds());
                    assertArrayEquals(new long[] {101, 1045, 2066, 20934, 2319, 2575, 22022, 2475, 102},
                            hf.encode(NotebookTokenizerTest.SECOND).getIds());
                }
                for (String t : TEXTS) {
                    Encoding e = hf.encode(t);
                    assertArrayEquals(e.getIds(), Parity.toLong(bertj.encode(t).ids()), n + ": " + t);
                    Encoding p = hf.encode(t, "a second segment");
                    assertArrayEquals(p.getTypeIds(), Parity.toLong(bertj.encode(t, "a second segment").typeIds()), n + " pair: " + t);
                }
            }
        }
    }
}
