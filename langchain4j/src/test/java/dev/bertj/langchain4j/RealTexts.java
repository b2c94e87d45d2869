package dev.bertj.langchain4j;

import dev.bertj.io.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Real texts of every length from the SpamAssassin sample (250 e-mails, CC0): each e-mail's subject
 * (a few tokens), the start of its body (tens to a hundred), its body, and the whole e-mail with its
 * headers (hundreds to over 3,000 tokens).
 */
final class RealTexts {
    private RealTexts() { }

    /** The sample's e-mails, in file order. */
    static List<String> emails() throws IOException {
        String where = System.getProperty("bertj.sample", "../tests/src/test/resources/spamassassin/sample.jsonl");
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of(where))) {
            if (line.isBlank()) continue;
            Map<String, Object> m = Json.asObject(Json.parse(line, where), where);
            out.add(Json.asString(m.get("text"), where + ": text"));
        }
        return out;
    }

    /** {@code perKind} e-mails (every fifth, all groups) cut four ways, plus the 5 longest e-mails whole. */
    static List<String> ofEveryLength(int perKind) throws IOException {
        List<String> emails = emails(), out = new ArrayList<>();
        for (int i = 0; i < emails.size() && out.size() < 4 * perKind; i += 5) {
            String mail = emails.get(i);
            int blank = mail.indexOf("\n\n");
            String body = blank < 0 ? mail : mail.substring(blank + 2);
            String subject = mail.lines().filter(l -> l.startsWith("Subject:")).findFirst().orElse("Subject: (none)").substring(8).trim();
            out.add(subject);
            out.add(body.substring(0, Math.min(body.length(), 300)));
            out.add(body);
            out.add(mail);
        }
        emails.stream().sorted(Comparator.comparingInt(String::length).reversed()).limit(5).forEach(out::add);
        return out;
    }
}
