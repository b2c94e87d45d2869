package dev.bertj.tests;

import dev.bertj.io.Json;
import dev.bertj.tokenizer.BertTokenizer;
import dev.bertj.tokenizer.EncodeOptions;
import dev.bertj.tokenizer.Encoding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real email text (SpamAssassin, CC0): ids, type ids, masks, word ids and offsets equal HF's.
 * The committed 250-email sample always runs; the whole corpus (6,046 emails) runs too when
 * {@code scripts/fetch-spamassassin.sh} has fetched it, which {@code .ci/run} does.
 */
class RealTextParityTest {
    static BertTokenizer tok;
    static HfOracle hf;

    @BeforeAll
    static void load() throws IOException {
        tok = BertTokenizer.fromPretrained(HfOracle.uncasedTokenizerJson());
        hf = HfOracle.builder().build();
    }

    @AfterAll
    static void close() {
        hf.close();
    }

    static List<String> texts(InputStream in, String source) throws IOException {
        List<String> out = new ArrayList<>();
        String all = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        int line = 0;
        for (String l : all.split("\n")) {
            line++;
            if (l.isBlank()) continue;
            @SuppressWarnings("unchecked")
            Map<String, Object> m = (Map<String, Object>) Json.parse(l, source + ":" + line);
            out.add((String) m.get("text"));
        }
        return out;
    }

    static List<String> sample() throws IOException {
        try (InputStream in = RealTextParityTest.class.getResourceAsStream("/spamassassin/sample.jsonl")) {
            return texts(in, "sample.jsonl");
        }
    }

    @Test
    void committedSampleMatchesEveryField() throws IOException {
        List<String> texts = sample();
        assertEquals(250, texts.size());
        List<Encoding> got = tok.encodeBatch(texts, EncodeOptions.NONE);
        for (int i = 0; i < texts.size(); i++) Parity.assertSame("sample email " + i, hf.encode(texts.get(i)), got.get(i));
    }

    @Test
    void sampleAsPairsTruncatedAndPaddedInBatches() throws IOException {
        List<String> texts = sample();
        List<String> firsts = texts.subList(0, 100), seconds = texts.subList(100, 200);
        EncodeOptions o = EncodeOptions.builder().truncation(EncodeOptions.Truncation.LONGEST_FIRST).maxLength(512)
                .padding(EncodeOptions.Padding.LONGEST).build();
        List<Encoding> got = tok.encodeBatch(firsts, seconds, o);
        try (HfOracle oracle = Parity.oracle(o, false)) {
            List<HfOracle.Enc> want = oracle.batchEncodePairs(firsts, seconds);
            for (int i = 0; i < got.size(); i++) Parity.assertSame("pair " + i, want.get(i), got.get(i));
        }
    }

    @Test
    void wholeCorpusWhenFetched() throws IOException {
        Path file = dev.bertj.io.Cache.spamAssassinEmails();
        if (!Files.isRegularFile(file)) {
            // CI fetches the corpus first (.ci/run); on a developer machine run scripts/fetch-spamassassin.sh.
            assertTrue(System.getenv("CI") == null, "CI must fetch the corpus: " + file + " is missing");
            System.err.println("RealTextParityTest: " + file + " not fetched; only the committed sample was compared");
            return;
        }
        List<String> texts;
        try (InputStream in = Files.newInputStream(file)) {
            texts = texts(in, file.toString());
        }
        assertEquals(6046, texts.size());
        int tokens = 0;
        for (int from = 0; from < texts.size(); from += 512) {
            List<String> chunk = texts.subList(from, Math.min(texts.size(), from + 512));
            List<Encoding> got = tok.encodeBatch(chunk, EncodeOptions.NONE);
            List<HfOracle.Enc> want = hf.batchEncode(chunk);
            for (int i = 0; i < chunk.size(); i++) {
                Parity.assertSame("email " + (from + i), want.get(i), got.get(i));
                tokens += got.get(i).length();
            }
        }
        System.err.println("RealTextParityTest: " + texts.size() + " emails, " + tokens + " tokens identical to HF");
    }
}
