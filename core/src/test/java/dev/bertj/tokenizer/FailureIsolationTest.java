package dev.bertj.tokenizer;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * No state survives a failed call: calls that fail (lone surrogates after pending combining marks,
 * texts over the length limit, impossible truncations, padding or windows beyond the limits, a bad
 * item inside a parallel batch) are interleaved with valid ones on one shared tokenizer, from one
 * thread and from 16, and every valid result must equal what a fresh tokenizer, which has seen
 * nothing else, returns for the same call.
 */
class FailureIsolationTest {
    /** Words with accents, spacing combining marks (U+302E, U+1D165), CJK and Greek, so every path of the splitter runs. */
    static final List<String> TOKENS = List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
            "hello", "world", "cafe", "naive", "a", "b", "c", "e", "##a", "##b", "##c", "##e", "##s", "x", "##x",
            "\u4e2d", "\u6587", "\u03b1", "##\u03b2", "\u302e", "##\u302e", "##\u302f", "\ud834\udd65", "##\ud834\udd65",
            "##\ud834\udd6d", ",", ".", "!", "?");
    static final int MAX_CHARS = 2000;

    static BertTokenizer fresh() {
        return BertTokenizer.builder().tokens(TOKENS).modelMaxLength(64).maxInputChars(MAX_CHARS).build();
    }

    /** One call of the public API; returns a value that compares with equals. */
    record Call(String name, Function<BertTokenizer, Object> run) { }

    static final List<Call> VALID = new ArrayList<>();
    static final List<Call> FAILING = new ArrayList<>();
    static final List<Object> EXPECTED = new ArrayList<>();

    static EncodeOptions.Builder opts() {
        return EncodeOptions.builder();
    }

    @BeforeAll
    static void calls() {
        String[] texts = {"Hello world", "Café naïve", "a\u302e\u302f b\ud834\udd65\ud834\udd6d", "\u4e2d\u6587\u03b1\u03b2 hello",
            "e\u0301\u0301\u0301 x\u0323\u0302 c", "[CLS] hello [SEP] world [MASK]", "hello,world!a.b?c", "",
            "a b c a b c a b c a b c a b c a b c a b c a b c"};
        EncodeOptions stride = opts().truncation(EncodeOptions.Truncation.LONGEST_FIRST).maxLength(9).stride(2).build();
        EncodeOptions padded = opts().padding(EncodeOptions.Padding.MAX_LENGTH).maxLength(24).paddingSide(EncodeOptions.PaddingSide.LEFT).build();
        for (String t : texts) {
            VALID.add(new Call("encode " + t, tok -> tok.encode(t)));
            VALID.add(new Call("encode pair " + t, tok -> tok.encode(t, texts[8], stride)));
            VALID.add(new Call("encode padded " + t, tok -> tok.encode(t, null, padded)));
        }
        VALID.add(new Call("tokenize", tok -> tok.tokenize("Hello naïve world\u302e")));
        List<String> big = new ArrayList<>();
        for (int i = 0; i < 3 * BertTokenizer.PARALLEL_BATCH; i++) big.add(texts[i % texts.length]);
        VALID.add(new Call("parallel batch", tok -> tok.encodeBatch(big, opts().padding(EncodeOptions.Padding.LONGEST).build())));
        VALID.add(new Call("batch pairs", tok -> tok.encodeBatch(List.of(texts).subList(0, 6), List.of(texts).subList(3, 9), stride)));

        String longWords = "a b c ".repeat(100); // 300 tokens: 299 windows a side at budget 2, stride 1
        FAILING.add(new Call("mark then lone surrogate", tok -> tok.encode("\ud834\udd65\ud834")));
        FAILING.add(new Call("spacing mark then lone surrogate", tok -> tok.encode("a\u302e\udc00")));
        FAILING.add(new Call("accents then lone surrogate mid-word", tok -> tok.encode("e\u0301\u0301\ud800x")));
        FAILING.add(new Call("pair fails after the first text", tok -> tok.encode("Hello wor", "ld\u302e\ud834")));
        FAILING.add(new Call("over the char limit", tok -> tok.encode("hello ".repeat(MAX_CHARS / 6 + 1))));
        FAILING.add(new Call("only_second without a pair", tok -> tok.encode("hello world", null,
                opts().truncation(EncodeOptions.Truncation.ONLY_SECOND).maxLength(3).build())));
        FAILING.add(new Call("stride too large", tok -> tok.encode(longWords, null,
                opts().truncation(EncodeOptions.Truncation.LONGEST_FIRST).maxLength(6).stride(4).build())));
        FAILING.add(new Call("max_length below the specials", tok -> tok.encode("a", "b",
                opts().truncation(EncodeOptions.Truncation.LONGEST_FIRST).maxLength(2).build())));
        FAILING.add(new Call("too many windows", tok -> tok.encode(longWords, longWords,
                opts().truncation(EncodeOptions.Truncation.LONGEST_FIRST).maxLength(7).stride(1).build())));
        FAILING.add(new Call("padding beyond the budget", tok -> tok.encodeBatch(Collections.nCopies(100, "a\u302e"),
                opts().padding(EncodeOptions.Padding.MAX_LENGTH).maxLength(EncodeOptions.MAX_LENGTH_LIMIT).build())));
        List<String> badBatch = new ArrayList<>(big);
        badBatch.set(100, "x\u302f\ud834");
        FAILING.add(new Call("bad item in a parallel batch", tok -> tok.encodeBatch(badBatch, EncodeOptions.NONE)));
        for (Call c : VALID) EXPECTED.add(c.run().apply(fresh()));
    }

    /** Runs {@code n} calls drawn at random, half failing; checks every outcome. */
    static void interleave(BertTokenizer shared, long seed, int n) {
        Random rnd = new Random(seed);
        for (int k = 0; k < n; k++) {
            if (rnd.nextBoolean()) {
                Call c = FAILING.get(rnd.nextInt(FAILING.size()));
                assertThrows(TokenizerException.class, () -> c.run().apply(shared), c.name());
            } else {
                int i = rnd.nextInt(VALID.size());
                assertEquals(EXPECTED.get(i), VALID.get(i).run().apply(shared), VALID.get(i).name() + " (seed " + seed + ", call " + k + ")");
            }
        }
    }

    @Test
    void theIssuesReproduction() {
        BertTokenizer tok = fresh();
        assertThrows(TokenizerException.class, () -> tok.encode("\ud834\udd65\ud834"));
        Encoding e = tok.encode("Hello world");
        assertEquals(List.of("[CLS]", "hello", "world", "[SEP]"), List.of(e.tokens()));
        assertEquals(fresh().encode("Hello world"), e);
        assertEquals(6, e.offsetStarts()[2]);
    }

    @Test
    void everyFailureFollowedByEveryValidCallOnOneThread() {
        for (Call bad : FAILING) {
            BertTokenizer shared = fresh();
            for (int i = 0; i < VALID.size(); i++) {
                assertThrows(TokenizerException.class, () -> bad.run().apply(shared), bad.name());
                assertEquals(EXPECTED.get(i), VALID.get(i).run().apply(shared), VALID.get(i).name() + " after " + bad.name());
            }
        }
    }

    @Test
    void randomInterleavingOnOneThread() {
        interleave(fresh(), 1, 400);
    }

    @Test
    void randomInterleavingFromSixteenThreads() throws Exception {
        BertTokenizer shared = fresh();
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 16; t++) {
                long seed = 100 + t;
                done.add(pool.submit(() -> interleave(shared, seed, 150)));
            }
            for (Future<?> f : done) f.get();
        } finally {
            pool.shutdownNow();
        }
    }
}
