package dev.bertj.data;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link Email}: hand-written messages for each MIME feature, and malformed ones that must still give text. */
class EmailTest {
    private static String b64(String s) {
        return Base64.getMimeEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void plainMessageKeepsSubjectAndBodyAndDropsHeaders() {
        String raw = """
                From someone@example.com  Thu Aug 22 12:36:23 2002
                Return-Path: <someone@example.com>
                Received: from mail.example.com (localhost [127.0.0.1])
                \tby mail.example.com (Postfix) with ESMTP id 1234
                Message-ID: <1234@example.com>
                From: Someone <someone@example.com>
                Subject: Lunch on Friday?
                Content-Type: text/plain; charset=us-ascii

                Hi all,   \n\n\n\nare we still on for Friday?
                  -- indented signature
                """;
        assertEquals("Lunch on Friday?\nHi all,\n\nare we still on for Friday?\n  -- indented signature", Email.toText(raw));
        assertEquals("Lunch on Friday?", Email.subject(raw));
    }

    @Test
    void foldedHeadersAreUnfolded() {
        String raw = "Subject: a subject that\n\tgoes on\n   and on\nContent-Type: multipart/mixed;\n"
                + "\tboundary=\"XYZ\"\n\n--XYZ\nContent-Type: text/plain\n\nthe body\n--XYZ--\n";
        assertEquals("a subject that goes on and on\nthe body", Email.toText(raw));
    }

    @Test
    void encodedWordSubjects() {
        assertEquals("Café au lait", Email.subject("Subject: =?ISO-8859-1?Q?Caf=E9_au_lait?=\n\nbody"));
        assertEquals("Grüße aus Köln", Email.subject("Subject: =?UTF-8?B?" + b64("Grüße") + "?= aus =?utf-8?q?K=C3=B6ln?=\n\nx"));
        // Blanks between two adjacent encoded-words are not part of the text (RFC 2047).
        assertEquals("ab", Email.subject("Subject: =?us-ascii?Q?a?=   =?us-ascii?Q?b?=\n\nx"));
        assertEquals("[SA] 世界 news", Email.subject("Subject: [SA] =?GB2312?B?ysC95w==?= news\n\nx"));
        // An unknown charset or broken encoded-word does not throw.
        assertEquals("=?x-nonsense?B?!!!?= still here", Email.subject("Subject: =?x-nonsense?B?!!!?= still here\n\nx"));
        assertEquals("Ol\u00e1", Email.subject("Subject: =?x-unknown-charset?Q?Ol=E1?=\n\nx"));
    }

    @Test
    void quotedPrintable() {
        String raw = """
                Subject: qp
                Content-Type: text/plain; charset="iso-8859-1"
                Content-Transfer-Encoding: quoted-printable

                Caf=E9 costs =3D 5 euros, and this line is soft-=
                broken.=20
                A stray = sign stays.
                """;
        assertEquals("qp\nCafé costs = 5 euros, and this line is soft-broken.\nA stray = sign stays.", Email.toText(raw));
        String utf8 = "Subject: u\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: Quoted-Printable\n\n"
                + "na=C3=AFve =E2=80=99quotes=E2=80=99\n";
        assertEquals("u\nnaïve ’quotes’", Email.toText(utf8));
    }

    @Test
    void base64Utf8AndUndeclaredCharsets() {
        String raw = "Subject: b\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: base64\n\n"
                + b64("Grüße, 世界!\r\nSecond line") + "\n";
        assertEquals("b\nGrüße, 世界!\nSecond line", Email.toText(raw));
        // No charset: valid UTF-8 is UTF-8, anything else windows-1252 (0x92 is a right quote, not a C1 control).
        String latin = "Subject: l\nContent-Transfer-Encoding: base64\n\n"
                + Base64.getEncoder().encodeToString(new byte[] {'I', (byte) 0x92, 'm', ' ', (byte) 0xe9}) + "\n";
        assertEquals("l\nI’m é", Email.toText(latin));
    }

    @Test
    void multipartAlternativePrefersPlainText() {
        String raw = """
                Subject: alt
                MIME-Version: 1.0
                Content-Type: multipart/alternative; boundary="b1"

                This is a multi-part message in MIME format.
                --b1
                Content-Type: text/html; charset=us-ascii

                <html><body><p>HTML version</p></body></html>
                --b1
                Content-Type: text/plain; charset=us-ascii

                Plain version
                --b1--
                epilogue
                """;
        assertEquals("alt\nPlain version", Email.toText(raw));
        // A blank text/plain alternative does not win over the HTML one.
        String emptyPlain = raw.replace("Plain version", "   ");
        assertEquals("alt\nHTML version", Email.toText(emptyPlain));
    }

    @Test
    void multipartMixedConcatenatesTextAndSkipsAttachments() {
        String raw = """
                Subject: mixed
                Content-Type: multipart/mixed; boundary="outer"

                --outer
                Content-Type: multipart/alternative; boundary="outer-inner"

                --outer-inner
                Content-Type: text/plain

                First part.
                --outer-inner
                Content-Type: text/html

                <b>First part.</b>
                --outer-inner--
                --outer
                Content-Type: image/gif; name="a.gif"
                Content-Transfer-Encoding: base64

                R0lGODlhAQABAIAAAP///wAAACwAAAAAAQABAAACAkQBADs=
                --outer
                Content-Type: text/plain; name="notes.txt"
                Content-Disposition: attachment; filename="notes.txt"

                attached notes
                --outer
                Content-Type: text/plain

                Second part.
                --outer--
                """;
        assertEquals("mixed\nFirst part.\nSecond part.", Email.toText(raw));
        // When an attached text file is the only text, it is the body.
        String onlyAttachment = "Subject: a\nContent-Type: multipart/mixed; boundary=z\n\n--z\nContent-Type: text/plain\n"
                + "Content-Disposition: attachment; filename=x.txt\n\nthe file\n--z--\n";
        assertEquals("a\nthe file", Email.toText(onlyAttachment));
    }

    @Test
    void htmlOnlyBecomesText() {
        String raw = """
                Subject: =?utf-8?Q?Sale!?=
                Content-Type: text/html; charset=iso-8859-1

                <!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.0 Transitional//EN">
                <html><head><title>Offer</title>
                <style type="text/css">body { color: red; }</style>
                <script language="JavaScript">if (a < b) { document.write("<td>hidden</td>"); }</script>
                </head><body>
                <!-- a comment <p>with tags</p> -->
                <p>Caf&eacute; &amp; bar &lt;tag&gt; &quot;q&quot; &#39;s&#39;&nbsp;&nbsp;x&nbsp;y</p>
                <table><tr><td>cell 1</td><td>cell 2</td></tr>
                <tr><td>&#233;&#xE9;&#x263A; &copy; &#146;</td></tr></table>
                line<br>break<BR/>again
                <ul><li>one</li><li>two</li></ul>
                <a href="http://example.com/?a=1&b=2">click
                   here</a> 5 < 6 &unknown; AT&T
                </body></html>
                """;
        assertEquals("Sale!\nOffer\n\nCafé & bar <tag> \"q\" 's' x y\ncell 1 cell 2\néé☺ © ’\nline\nbreak\nagain\none\ntwo\n"
                + "click here 5 < 6 &unknown; AT&T", Email.toText(raw));
    }

    @Test
    void htmlInDisguiseAndTagsInPlainText() {
        // Declared text/plain (or nothing) but really HTML: converted.
        String disguised = "Subject: s\n\n<html><body><font size=3>Buy <b>now</b></font><br>today</body></html>\n";
        assertEquals("s\nBuy now\ntoday", Email.toText(disguised));
        // Plain text that only mentions a tag keeps its lines; the tag itself goes.
        String plain = "Subject: p\nContent-Type: text/plain\n\nLine one\n  indented: use <br> here\nLine three\n";
        assertEquals("p\nLine one\n  indented: use\n here\nLine three", Email.toText(plain));
    }

    @Test
    void forwardedMessageIsIncluded() {
        String raw = "Subject: Fwd\nContent-Type: multipart/mixed; boundary=\"m\"\n\n--m\nContent-Type: text/plain\n\nsee below\n"
                + "--m\nContent-Type: message/rfc822\n\nFrom: x@y\nSubject: inner subject\n\ninner body\n--m--\n";
        assertEquals("Fwd\nsee below\ninner subject\ninner body", Email.toText(raw));
    }

    @Test
    void malformedBoundaries() {
        // Declared boundary that never appears: the body is read as text.
        String missing = "Subject: m1\nContent-Type: multipart/mixed; boundary=\"nope\"\n\njust text\n";
        assertEquals("m1\njust text", Email.toText(missing));
        // No boundary parameter at all.
        assertEquals("m2\nbody", Email.toText("Subject: m2\nContent-Type: multipart/alternative\n\nbody\n"));
        // No closing delimiter: the last part runs to the end.
        String unclosed = "Subject: m3\nContent-Type: multipart/mixed; boundary=q\n\n--q\nContent-Type: text/plain\n\npart one\n"
                + "--q\nContent-Type: text/plain\n\npart two, never closed\n";
        assertEquals("m3\npart one\npart two, never closed", Email.toText(unclosed));
        // MIME parts without a Content-Type header on the message (spam does this): the delimiter is found.
        String undeclared = "Subject: m4\nMIME-Version: 1.0\n\nThis is a multipart MIME message.\n\n--= Boundary 0626\n"
                + "Content-Type: text/plain\n\nthe text\n--= Boundary 0626\nContent-Type: application/octet-stream\n"
                + "Content-Transfer-Encoding: base64\n\nAAECAwQFBgcICQ==\n--= Boundary 0626--\n";
        assertEquals("m4\nthe text", Email.toText(undeclared));
        // A quote left open in the Content-Type still gives the boundary.
        String openQuote = "Subject: m5\nContent-Type: multipart/mixed; boundary=\"open\n\n--open\n\nhello\n--open--\n";
        assertEquals("m5\nhello", Email.toText(openQuote));
    }

    @Test
    void brokenEncodingsFallBackToRawText() {
        String badBase64 = "Subject: b\nContent-Transfer-Encoding: base64\n\nThis is not base64 at all, is it? No!\n";
        assertEquals("b\nThis is not base64 at all, is it? No!", Email.toText(badBase64));
        String badCharset = "Subject: c\nContent-Type: text/plain; charset=\"x-no-such-charset\"\n"
                + "Content-Transfer-Encoding: quoted-printable\n\nna=C3=AFve\n";
        assertEquals("c\nnaïve", Email.toText(badCharset));
        String illegalCharsetName = "Subject: d\nContent-Type: text/plain; charset=\"bad name!\"\n"
                + "Content-Transfer-Encoding: base64\n\n" + b64("ok") + "\n";
        assertEquals("d\nok", Email.toText(illegalCharsetName));
    }

    @Test
    void crlfAndOddInputs() {
        assertEquals("crlf\nline 1\nline 2", Email.toText("Subject: crlf\r\nX-A: b\r\n\r\nline 1\r\nline 2\r\n"));
        assertEquals("", Email.toText(""));
        assertEquals("", Email.toText(null));
        assertEquals("", Email.subject("no headers here"));
        // No headers at all: everything is body.
        assertEquals("Hello there,\nno headers here.", Email.toText("Hello there,\nno headers here.\n"));
        // Headers only, no body.
        assertEquals("only a subject", Email.toText("Subject: only a subject\nFrom: a@b"));
    }

    @Test
    void randomGarbageNeverThrows() {
        Random rnd = new Random(7);
        String alphabet = "abc<>&;=?\"-\n\r\t :/#xQB_é\u00a0";
        String[] pieces = {"Content-Type: multipart/mixed; boundary=\"b\"\n", "Content-Transfer-Encoding: base64\n",
            "Content-Transfer-Encoding: quoted-printable\n", "--b\n", "--b--\n", "\n", "<html>", "<script>", "<!--", "&#",
            "=?utf-8?B?", "?=", "Subject: ", "Content-Type: text/html; charset=", "=\n", "=F", "&#x110000;", "&#99999999;"};
        for (int t = 0; t < 2000; t++) {
            StringBuilder sb = new StringBuilder();
            for (int k = rnd.nextInt(40); k > 0; k--) {
                if (rnd.nextBoolean()) sb.append(pieces[rnd.nextInt(pieces.length)]);
                else sb.append(alphabet.charAt(rnd.nextInt(alphabet.length())));
            }
            String raw = sb.toString();
            String text = assertDoesNotThrow(() -> Email.toText(raw), raw);
            assertFalse(text.endsWith("\n") || text.startsWith("\n"), raw);
        }
    }

    @Test
    void deepNestingIsBoundedAndFast() {
        StringBuilder fwd = new StringBuilder("Subject: deep\n");
        for (int d = 0; d < 200; d++) fwd.append("Content-Type: message/rfc822\n\n");
        StringBuilder mp = new StringBuilder("Subject: nested\n");
        for (int d = 0; d < 200; d++) mp.append("Content-Type: multipart/mixed; boundary=b").append(d).append("\n\n--b").append(d).append('\n');
        // Empty at every level: the retry that looks at attachments must not run again at each level (2^depth).
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            assertEquals("deep", Email.toText(fwd + "\n"));
            assertEquals("nested", Email.toText(mp.toString()));
        });
    }
}
