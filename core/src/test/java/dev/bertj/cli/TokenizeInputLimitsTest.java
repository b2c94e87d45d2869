package dev.bertj.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code ./bertj tokenize}'s input: lines split as BufferedReader splits them, with a length limit. */
class TokenizeInputLimitsTest {
    static List<String> all(TokenizeCommand.LineReader r) throws Exception {
        List<String> out = new ArrayList<>();
        for (String l; (l = r.next(out.size() + 1)) != null; ) out.add(l);
        return out;
    }

    @Test
    void linesSplitAsBufferedReaderSplitsThem() throws Exception {
        Random rnd = new Random(7);
        String alphabet = "ab\n\r\r\n";
        for (int k = 0; k < 5000; k++) {
            StringBuilder sb = new StringBuilder();
            int n = rnd.nextInt(k < 100 ? 10 : 200_000);
            for (int i = 0; i < n; i++) sb.append(alphabet.charAt(rnd.nextInt(alphabet.length())));
            if (k % 50 == 0) sb.append("x".repeat(70_000)); // lines across the reader's 64 K buffer
            String s = sb.toString();
            List<String> want = new ArrayList<>();
            BufferedReader br = new BufferedReader(new StringReader(s));
            for (String l; (l = br.readLine()) != null; ) want.add(l);
            assertEquals(want, all(new TokenizeCommand.LineReader(new StringReader(s), Integer.MAX_VALUE)));
            if (k >= 100) k += 99; // a few long ones are enough
        }
    }

    @Test
    void aLineBeyondTheLimitIsRefusedWithoutReadingItWhole() {
        // An endless line: the reader must give up at the limit, not run out of memory.
        Reader endless = new Reader() {
            @Override public int read(char[] b, int off, int len) {
                java.util.Arrays.fill(b, off, off + len, 'a');
                return len;
            }
            @Override public void close() { }
        };
        TokenizeCommand.LineReader r = new TokenizeCommand.LineReader(endless, 1_000_000);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> r.next(3));
        assertEquals("stdin line 3: longer than the limit of 1,000,000 chars", e.getMessage());
        assertEquals(2 * 32 * 1024 * 1024, TokenizeCommand.MAX_LINE_CHARS);
    }

    static int run(Path tokenizer, String input, ByteArrayOutputStream err, String... options) {
        String[] args = new String[3 + options.length];
        args[0] = "tokenize";
        args[1] = "--tokenizer";
        args[2] = tokenizer.toString();
        System.arraycopy(options, 0, args, 3, options.length);
        return Main.run(args, new BufferedReader(new StringReader(input)), new PrintStream(new ByteArrayOutputStream()),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void hugeLengthsFromTheCommandLineAreRefusedNotAllocated(@TempDir Path dir) throws Exception {
        Path vocab = Files.writeString(dir.resolve("vocab.txt"), "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\n");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(1, run(vocab, "\"hello\"\n", err, "--max-length", "2147483647", "--padding", "max_length"));
        String m = err.toString(StandardCharsets.UTF_8);
        assertTrue(m.contains("max_length 2,147,483,647 is more than the limit of 1,048,576"), m);
        ByteArrayOutputStream err2 = new ByteArrayOutputStream();
        assertEquals(1, run(vocab, "\"hello\"\n\"hello \\ud800\"\n", err2));
        assertTrue(err2.toString(StandardCharsets.UTF_8).contains("stdin line 2: text has a lone surrogate"), err2.toString());
    }
}
