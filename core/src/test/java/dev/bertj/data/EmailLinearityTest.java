package dev.bertj.data;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Random;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The e-mail parser's quadratic spots found for issue 13, rewritten to be linear: each rewrite is
 * checked against the expression it replaced (the oracle, on inputs small enough for it), and each
 * pathological shape must finish well within a bound on 512 KB of it (the quadratic ones took minutes there before).
 */
class EmailLinearityTest {
    /** The expressions as they were before issue 13. */
    static final Pattern OLD_SCRIPT_STYLE = Pattern.compile("(?is)<(script|style)\\b[^>]*+>.*?(?:</\\1\\s*>|\\z)");
    static final Pattern OLD_EDGE_NEWLINES = Pattern.compile("^\\n+|\\n+$");
    static final Pattern OLD_BLANK_LINES = Pattern.compile("\\n{3,}");
    static final Pattern TRAILING_BLANKS = Pattern.compile("(?md)(?<![^\\S\\n])[^\\S\\n]++$"),
            LINE_BLANKS = Pattern.compile("(?md)^[^\\S\\n]++|(?<![^\\S\\n])[^\\S\\n]++$");

    static String oldTidy(String s, boolean stripLeading) {
        String t = (stripLeading ? LINE_BLANKS : TRAILING_BLANKS).matcher(s).replaceAll("");
        return OLD_BLANK_LINES.matcher(OLD_EDGE_NEWLINES.matcher(t).replaceAll("")).replaceAll("\n\n");
    }

    static String random(Random rnd, String alphabet, String[] words, int n) {
        StringBuilder sb = new StringBuilder();
        while (sb.length() < n) {
            if (rnd.nextInt(3) == 0) sb.append(words[rnd.nextInt(words.length)]);
            else sb.append(alphabet.charAt(rnd.nextInt(alphabet.length())));
        }
        return sb.toString();
    }

    @Test
    void rewrittenScriptAndStyleRemovalEqualsTheRegex() {
        Random rnd = new Random(13);
        String[] words = {"<script", "<SCRIPT", "<style", "</script>", "</Script  >", "</style\n>", "<scripts", "<style/>", ">"};
        for (int k = 0; k < 20_000; k++) {
            String s = random(rnd, "<>/ \nax", words, rnd.nextInt(60));
            assertEquals(OLD_SCRIPT_STYLE.matcher(s).replaceAll(" "), Email.dropScriptsAndStyles(s), s);
        }
    }

    @Test
    void rewrittenTidyEqualsTheRegex() {
        Random rnd = new Random(14);
        String[] words = {"\n\n\n", "\r\n", "\u2028", "\u0085", "\r", "  \n", "\t"};
        for (int k = 0; k < 20_000; k++) {
            String s = random(rnd, "\n \tab", words, rnd.nextInt(40));
            for (boolean lead : new boolean[] {false, true}) assertEquals(oldTidy(s, lead), Email.tidy(s, lead), s);
        }
    }

    static void fast(String what, String raw) {
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> Email.toText(raw), what);
    }

    @Test
    void pathologicalShapesTakeLinearTime() {
        int n = 1 << 19;
        // The reproduction: a header folded over 400,000 continuation lines (12.8 s before).
        String folded = "Subject: x\n" + " y\n".repeat(400_000) + "\nbody";
        String text = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> Email.toText(folded));
        assertTrue(text.startsWith("x y y y") && text.endsWith("\nbody"), text.substring(0, 20));
        String html = "Content-Type: text/html\n\n";
        fast("'<' without '>'", html + "<a".repeat(n / 2));
        fast("unclosed comments", html + "<!--a>".repeat(n / 6));
        fast("script tags without '>'", html + "<script".repeat(n / 7));
        fast("'<' then blanks", "\n\n" + ("<" + " ".repeat(20_000) + "x").repeat(n / 20_000));
        fast("newline runs inside the text", "\n\na" + "\n".repeat(n) + "b");
        fast("blank runs", "\n\na" + " ".repeat(n) + "b\n");
        fast("encoded-word starts", "Subject: " + "=?".repeat(n / 2) + "\n\nx");
        fast("many boundaries", "Content-Type: multipart/mixed; boundary=b\n\n" + "--b\n\nx\n".repeat(n / 7));
        fast("base64 lines", "Content-Transfer-Encoding: base64\n\n" + "QUJD\n".repeat(n / 5));
        fast("quoted-printable with non-ASCII", "Content-Transfer-Encoding: quoted-printable\n\n" + "=C3=A9\u00e9".repeat(n / 7));
    }
}
