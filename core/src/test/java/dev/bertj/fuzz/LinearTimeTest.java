package dev.bertj.fuzz;

import dev.bertj.cli.Main;
import dev.bertj.data.Email;
import dev.bertj.io.Json;
import dev.bertj.tokenizer.BertTokenizer;
import dev.bertj.tokenizer.EncodeOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.IntFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Text processing stays linear in the input's length (issue 13): the tokenizer, the e-mail parser,
 * Json and the CLI's JSON Lines, each on realistic and on hostile text. Not a speed assertion: each
 * size must finish within 10 times the linear extrapolation from a run on an input 100 times
 * smaller, plus one second for the collector and the machine's other work. With a ratio of 100 a
 * quadratic step would take 100 times the bound's linear part, so it fails; a ratio of 10 (a
 * 1 MB base for 10 MB) could not tell a quadratic step from 10 times slowness.
 *
 * <p>Default builds run 10 MB (about 20 s in all on 2 cores). The 100 MB run takes minutes and a
 * few GB of heap, so it runs only in the {@code large-inputs} profile:
 * {@code mvn -pl core test -Plarge-inputs -Dtest=LinearTimeTest}.
 */
class LinearTimeTest {
    static final int MB = 1 << 20;
    static final List<String> TOKENS = vocabulary();
    static final BertTokenizer TOK = BertTokenizer.builder().tokens(TOKENS).modelMaxLength(512).maxInputChars(Integer.MAX_VALUE - 8).build();
    static final String PROSE = "Hello world, the quick brown fox jumps over the lazy dog! It is naïve to think "
            + "that a café in Zürich serves 中文 food \ud83d\ude00 -- isn't it? (The end.) ";

    static List<String> vocabulary() {
        List<String> t = new ArrayList<>(List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "the", "quick",
                "brown", "fox", "jump", "##s", "over", "lazy", "dog", "it", "is", "to", "think", "that", "in", "serves", "food",
                "end", "isn", "cafe", "naive", "zurich", "\u4e2d", "\u6587", ",", "!", "-", "?", "(", ")", ".", "'", "\ud83d\ude00"));
        for (char c = 'a'; c <= 'z'; c++) {
            t.add(String.valueOf(c));
            if (c != 's') t.add("##" + c);
        }
        return t;
    }

    /** A named piece of text processing and the input it scales on. */
    record Case(String name, IntFunction<String> input, Consumer<String> run) { }

    static String repeat(String unit, int chars) {
        return unit.repeat(Math.max(1, chars / unit.length()));
    }

    static List<Case> cases() {
        List<Case> c = new ArrayList<>();
        c.add(new Case("tokenizer: prose", n -> repeat(PROSE, n), TOK::encode));
        c.add(new Case("tokenizer: one word", n -> repeat("ab", n), TOK::encode));
        c.add(new Case("tokenizer: combining marks of two classes", n -> "a" + repeat("\ud834\udd65\u302e", n), TOK::encode));
        c.add(new Case("tokenizer: special-token prefixes", n -> repeat("[CLS [SEP x [ ##", n), TOK::encode));
        EncodeOptions windows = EncodeOptions.builder().truncation(EncodeOptions.Truncation.LONGEST_FIRST).maxLength(16)
                .stride(4).padding(EncodeOptions.Padding.LONGEST).build();
        c.add(new Case("tokenizer: batches with windows and padding", n -> repeat(PROSE, n), s -> {
            List<String> texts = List.of(s.split("(?<=\\)) "));
            for (int i = 0; i < texts.size(); i += 4096) TOK.encodeBatch(texts.subList(i, Math.min(texts.size(), i + 4096)), windows);
        }));
        c.add(new Case("e-mail: HTML", n -> "Subject: x\nContent-Type: text/html\n\n" + repeat("<p>Hi &amp; <b>bye</b></p><!-- c -->"
                + "<script>x</script>< a <td>1 &#8364;</td>\n\n\n", n), Email::toText));
        c.add(new Case("e-mail: folded headers and many parts", n -> "Subject: a\n" + repeat(" folded\n", n / 2)
                + "Content-Type: multipart/mixed; boundary=b\n\n" + repeat("--b\nContent-Type: text/plain\n\nbody text\n", n / 2),
                Email::toText));
        c.add(new Case("Json", n -> "[" + repeat("\"caf\\u00e9 \\n\", 1.5e-3, {\"k\": [true, null]}, ", n) + "0]", s -> Json.parse(s)));
        c.add(new Case("CLI tokenize: JSON Lines", n -> repeat("{\"text\": \"" + PROSE + "\", \"text_pair\": \"the end\"}\n", n),
                LinearTimeTest::tokenizeCommand));
        return c;
    }

    static Path vocabFile;

    static void tokenizeCommand(String jsonLines) {
        try {
            if (vocabFile == null) {
                vocabFile = Files.createTempFile("bertj-linear", "-vocab.txt");
                vocabFile.toFile().deleteOnExit();
                Files.writeString(vocabFile, String.join("\n", TOKENS) + "\n");
            }
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int status = Main.run(new String[] {"tokenize", "--tokenizer", vocabFile.toString(), "--max-length", "64"},
                    new BufferedReader(new StringReader(jsonLines)), new PrintStream(OutputStream.nullOutputStream()), new PrintStream(err));
            assertEquals(0, status, err::toString);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static double millis(Case c, String input) {
        long t0 = System.nanoTime();
        c.run().accept(input);
        return (System.nanoTime() - t0) / 1e6;
    }

    /** Times every case at {@code size} chars against 10x the linear extrapolation from {@code size / 100}. */
    static void linear(int size) {
        List<String> report = new ArrayList<>();
        for (Case c : cases()) {
            String small = c.input().apply(size / 100);
            millis(c, c.input().apply(size / 10)); // the JIT compiles the path first, so the base is not interpreted code
            for (int k = 0; k < 3; k++) millis(c, small);
            double base = Double.MAX_VALUE;
            for (int k = 0; k < 3; k++) base = Math.min(base, millis(c, small));
            double bound = 10 * 100 * base + 1000;
            String big = c.input().apply(size);
            double t = assertTimeoutPreemptively(Duration.ofMillis((long) bound + 1), () -> millis(c, big),
                    () -> c.name() + ": over the bound of " + (long) bound + " ms");
            report.add(String.format("%-45s %,6.1f ms at %,d chars, %,8.0f ms at %,d chars (bound %,.0f ms)",
                    c.name(), base, small.length(), t, big.length(), bound));
            assertTrue(t <= bound, c.name());
        }
        System.out.println(String.join("\n", report));
    }

    @Test
    void tenMegabytes() {
        linear(10 * MB);
    }

    @Test
    @EnabledIfSystemProperty(named = "bertj.largeInputs", matches = "true")
    void hundredMegabytes() {
        linear(100 * MB);
    }
}
