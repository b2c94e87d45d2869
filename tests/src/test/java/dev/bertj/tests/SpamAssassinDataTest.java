package dev.bertj.tests;

import dev.bertj.cli.Main;
import dev.bertj.data.SpamAssassin;
import dev.bertj.io.Json;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ./bertj data spamassassin} on the committed 250-e-mail sample: label counts, stratification,
 * determinism, no text in two splits, and texts free of mail headers and HTML.
 */
class SpamAssassinDataTest {
    /** Header lines that must not survive (at a line start, as they appear in a raw message). */
    private static final Pattern HEADER_LINE = Pattern.compile("(?m)^(Received: from|Message-I[dD]: <|Return-Path: <|Delivered-To: )");
    private static final Pattern HTML_LEFT = Pattern.compile("(?i)<html|<td");

    @TempDir
    static Path tmp;
    static Path corpus;
    static SpamAssassin.Result result;

    record Row(String text, String label) { }

    @BeforeAll
    static void prepare() throws IOException {
        corpus = tmp.resolve("emails.jsonl");
        try (InputStream in = SpamAssassinDataTest.class.getResourceAsStream("/spamassassin/sample.jsonl")) {
            Files.copy(in, corpus);
        }
        result = SpamAssassin.prepare(corpus, tmp.resolve("seed42"), 42);
    }

    static List<Row> read(Path file) throws IOException {
        List<Row> rows = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            Map<String, Object> o = Json.asObject(Json.parse(line), "line");
            assertEquals(2, o.size(), line);
            rows.add(new Row(Json.asString(o.get("text"), "text"), Json.asString(o.get("label"), "label")));
        }
        return rows;
    }

    static Map<String, List<Row>> splits(Path dir) throws IOException {
        Map<String, List<Row>> m = new HashMap<>();
        for (String split : SpamAssassin.SPLITS) m.put(split, read(dir.resolve(split + ".jsonl")));
        return m;
    }

    static long count(List<Row> rows, String label) {
        return rows.stream().filter(r -> r.label().equals(label)).count();
    }

    @Test
    void countsAndStratification() throws IOException {
        Map<String, List<Row>> s = splits(tmp.resolve("seed42"));
        assertEquals(250, result.emails());
        int total = s.values().stream().mapToInt(List::size).sum();
        assertEquals(250 - result.duplicatesDropped(), total);
        long ham = s.values().stream().mapToLong(r -> count(r, "ham")).sum(), spam = s.values().stream().mapToLong(r -> count(r, "spam")).sum();
        assertEquals(total, ham + spam, "labels are only ham and spam");
        // The sample has 50 e-mails per group: 150 ham (3 groups) and 100 spam (2 groups), before duplicates.
        assertEquals(250, ham + spam + result.duplicatesDropped());
        assertTrue(ham <= 150 && spam <= 100 && ham >= 140 && spam >= 95, ham + " ham, " + spam + " spam");
        // Stratified: each label is cut at floor(0.8 n) and floor(0.9 n), so each split has the overall ratio (±1).
        for (String label : SpamAssassin.LABELS) {
            long n = label.equals("ham") ? ham : spam;
            long train = (long) Math.floor(0.8 * n), validation = (long) Math.floor(0.9 * n) - train;
            assertEquals(train, count(s.get("train"), label), label);
            assertEquals(validation, count(s.get("validation"), label), label);
            assertEquals(n - train - validation, count(s.get("test"), label), label);
            for (String split : SpamAssassin.SPLITS) {
                assertEquals(count(s.get(split), label), (long) result.counts().get(split).get(label), split + "/" + label);
            }
        }
        for (String split : SpamAssassin.SPLITS) { // each label's share of each split is the corpus's, within one e-mail
            for (String label : SpamAssassin.LABELS) {
                double expected = (label.equals("ham") ? ham : spam) * (double) s.get(split).size() / total;
                long got = count(s.get(split), label);
                assertTrue(Math.abs(got - expected) <= 1, split + "/" + label + ": " + got + ", expected " + expected);
            }
        }
        // Labels are mixed within each file, not ham first then spam.
        List<Row> train = s.get("train");
        assertTrue(train.subList(0, 40).stream().anyMatch(r -> r.label().equals("spam")));
        assertTrue(train.subList(0, 40).stream().anyMatch(r -> r.label().equals("ham")));
    }

    @Test
    void noTextInTwoSplitsAndNoDuplicates() throws IOException {
        Map<String, List<Row>> s = splits(tmp.resolve("seed42"));
        Map<String, String> seen = new HashMap<>();
        for (String split : SpamAssassin.SPLITS) {
            for (Row r : s.get(split)) assertNull(seen.put(r.text(), split), "text in " + seen.get(r.text()) + " and " + split);
        }
    }

    @Test
    void textsHaveNoHeadersAndNoHtml() throws IOException {
        for (List<Row> rows : splits(tmp.resolve("seed42")).values()) {
            for (Row r : rows) {
                String where = r.text().substring(0, Math.min(120, r.text().length()));
                assertFalse(r.text().isBlank(), "empty text");
                assertFalse(HEADER_LINE.matcher(r.text()).find(), "header left in: " + where);
                assertFalse(HTML_LEFT.matcher(r.text()).find(), "HTML left in: " + where);
                assertFalse(r.text().contains("\r"), where);
                assertFalse(r.text().contains("\n\n\n"), where);
            }
        }
    }

    @Test
    void sameSeedSameFilesOtherSeedOtherFiles() throws IOException {
        Path again = tmp.resolve("seed42-again"), other = tmp.resolve("seed7");
        SpamAssassin.Result r2 = SpamAssassin.prepare(corpus, again, 42);
        SpamAssassin.prepare(corpus, other, 7);
        assertEquals(result, r2);
        for (String split : SpamAssassin.SPLITS) {
            assertArrayEquals(Files.readAllBytes(tmp.resolve("seed42").resolve(split + ".jsonl")),
                    Files.readAllBytes(again.resolve(split + ".jsonl")), split);
        }
        assertFalse(java.util.Arrays.equals(Files.readAllBytes(tmp.resolve("seed42").resolve("test.jsonl")),
                Files.readAllBytes(other.resolve("test.jsonl"))), "seed 7 gave the same test split as seed 42");
        // Only the three files are left: the temporary files were renamed into place.
        try (var files = Files.list(again)) {
            assertEquals(List.of("test.jsonl", "train.jsonl", "validation.jsonl"),
                    files.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }

    @Test
    void unknownGroupIsAnError() throws IOException {
        Path bad = tmp.resolve("bad.jsonl");
        Files.writeString(bad, "{\"group\":\"easy-ham-1\",\"id\":\"1\",\"text\":\"Subject: hi\\n\\nbody\"}\n"
                + "{\"group\":\"spam-3\",\"id\":\"2\",\"text\":\"Subject: x\\n\\ny\"}\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SpamAssassin.prepare(bad, tmp.resolve("bad"), 42));
        assertTrue(e.getMessage().contains(":2:") && e.getMessage().contains("spam-3"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("bad").resolve("train.jsonl")));
    }

    record Result(int status, String out, String err) { }

    static Result cli(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int status = Main.run(args, new BufferedReader(new StringReader("")),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void commandLine() throws IOException {
        Path out = tmp.resolve("cli");
        Result r = cli("data", "spamassassin", "--out", out.toString(), "--corpus", corpus.toString(), "--seed", "42");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("exact-duplicate texts dropped") && r.out().contains("validation"), r.out());
        for (String split : SpamAssassin.SPLITS) {
            assertArrayEquals(Files.readAllBytes(tmp.resolve("seed42").resolve(split + ".jsonl")),
                    Files.readAllBytes(out.resolve(split + ".jsonl")), split);
        }
        assertEquals(2, cli("data").status());
        assertEquals(2, cli("data", "imdb", "--out", out.toString()).status());
        assertEquals(2, cli("data", "spamassassin").status()); // --out is required
        assertEquals(2, cli("data", "spamassassin", "--out", out.toString(), "--seed", "x").status());
        Result missing = cli("data", "spamassassin", "--out", out.toString(), "--corpus", tmp.resolve("nope.jsonl").toString());
        assertEquals(1, missing.status());
        assertTrue(missing.err().contains("fetch-spamassassin.sh"), missing.err());
        Result help = cli("data", "--help");
        assertEquals(0, help.status());
        assertTrue(help.out().contains("./bertj data spamassassin --out DIR"), help.out());
    }
}
