package dev.bertj.data;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns a raw RFC 822 / MIME e-mail into the text a classifier should see: the decoded subject, a
 * newline, then the body text. Mail headers are dropped, multipart messages are walked (text/plain
 * preferred over text/html in multipart/alternative, attachments and non-text parts skipped),
 * quoted-printable and base64 are decoded, and HTML is reduced to text.
 *
 * <p>Spam is often malformed, so nothing here throws on bad input: a part that cannot be decoded
 * keeps its raw text, and a multipart message whose boundary never appears is read as plain text.
 */
public final class Email {
    private static final int MAX_DEPTH = 16; // nested parts and forwarded messages deeper than this are not walked
    private static final Pattern HEADER_NAME = Pattern.compile("[!-9;-~]{1,200}:");
    private static final Pattern PARAM = Pattern.compile(";\\s*([^=;\\s]+)\\s*=\\s*(\"[^\"]*\"?|[^;]*)");
    private static final Pattern BASE64_LINE = Pattern.compile("[A-Za-z0-9+/]+={0,2}");
    private static final Pattern TRAILING_BLANKS = Pattern.compile("(?md)(?<![^\\S\\n])[^\\S\\n]++$"),
            LINE_BLANKS = Pattern.compile("(?md)^[^\\S\\n]++|(?<![^\\S\\n])[^\\S\\n]++$");
    /**
     * Newlines at both ends. The lookbehind and possessive quantifiers keep it linear: {@code \n+$} alone
     * retries from every newline of a long run inside the text, each retry scanning the rest of the run.
     */
    private static final Pattern BLANK_LINES = Pattern.compile("\\n{3,}"), EDGE_NEWLINES = Pattern.compile("^\\n++|(?<!\\n)\\n++$");
    private static final Pattern ENCODED_WORD = Pattern.compile("=\\?([^?\\s]+)\\?([BbQq])\\?([^?\\s]*)\\?=");
    /** A "--X" line followed by a Content- header: the delimiter of an undeclared or misdeclared multipart. */
    private static final Pattern DELIMITER = Pattern.compile("(?m)^--([^\\n]{1,200})\\n(?i:content-)");
    /** A script or style element's start tag, up to its name; {@link #dropScriptsAndStyles} finds the rest. */
    private static final Pattern SCRIPT_STYLE_OPEN = Pattern.compile("(?i)<(script|style)\\b");
    private static final Pattern SCRIPT_CLOSE = Pattern.compile("(?i)</script\\s*+>"), STYLE_CLOSE = Pattern.compile("(?i)</style\\s*+>");
    /** Tags that e-mail HTML uses, to find HTML in bodies not declared text/html. */
    // Possessive quantifiers: "<" and a long run of blanks would otherwise try every split of it between the two \s*.
    private static final Pattern HTML_TAG = Pattern.compile("(?i)<\\s*+/?\\s*+(html|body|head|table|tbody|tr|td|th|font|div"
            + "|p|br|center|a|img|span|b|i|u|ul|ol|li|strong|em|meta|title|hr|!doctype)\\b[^<>]{0,2000}+>");
    private static final Set<String> BLOCK_TAGS = Set.of("br", "p", "div", "tr", "li", "table", "tbody", "ul", "ol",
            "h1", "h2", "h3", "h4", "h5", "h6", "hr", "blockquote", "pre", "title", "center", "dd", "dt", "dl", "form",
            "html", "body", "head", "address", "section", "article", "header", "footer", "caption");
    private static final Map<String, String> ENTITIES = entities();
    /** What browsers use for undeclared, US-ASCII and ISO-8859-1 text: Latin-1 with printable 0x80-0x9F. */
    private static final Charset FALLBACK = Charset.forName("windows-1252");

    private Email() { }

    /** A message or MIME part: header names lower-cased (first occurrence wins), and the body after them. */
    private record Part(Map<String, String> headers, String body) {
        String header(String name) { return headers.getOrDefault(name, ""); }
    }

    /** A Content-Type or Content-Disposition value: the lower-cased type and its parameters. */
    private record HeaderValue(String value, Map<String, String> params) { }

    /** The message's text: the decoded subject, a newline, then the body text (no subject line when there is none). */
    public static String toText(String rawMessage) {
        return toText(normalizeNewlines(rawMessage), 0);
    }

    /** The decoded Subject header (encoded-words decoded, folding and runs of blanks collapsed), or "" when absent. */
    public static String subject(String rawMessage) {
        return subjectOf(parsePart(normalizeNewlines(rawMessage)));
    }

    private static String toText(String raw, int depth) {
        Part p = parsePart(raw);
        StringBuilder sb = new StringBuilder();
        walk(p, depth, false, sb);
        // When an attached file is the only text, it is the body (retried at the top only: nested retries would be exponential).
        if (sb.isEmpty() && depth == 0) walk(p, depth, true, sb);
        String subject = subjectOf(p), body = tidy(sb.toString(), false);
        return subject.isEmpty() ? body : body.isEmpty() ? subject : subject + "\n" + body;
    }

    private static String subjectOf(Part p) {
        return decodeEncodedWords(p.header("subject")).replaceAll("\\s+", " ").strip();
    }

    private static String normalizeNewlines(String s) {
        return s == null ? "" : s.replace("\r\n", "\n").replace('\r', '\n');
    }

    /** Splits headers from body. Headers end at a blank line, or at the first line that is not a header. */
    private static Part parsePart(String raw) {
        Map<String, String> headers = new HashMap<>();
        String name = null;
        // A builder, not String +=: a header folded over 400,000 lines made joining quadratic (12.8 s).
        StringBuilder value = new StringBuilder();
        int pos = 0;
        while (pos < raw.length()) {
            int nl = raw.indexOf('\n', pos);
            String line = raw.substring(pos, nl < 0 ? raw.length() : nl);
            int next = nl < 0 ? raw.length() : nl + 1;
            if (line.isEmpty() || line.isBlank() && name != null) {
                pos = next; // the blank line between headers and body
                break;
            }
            boolean mboxFrom = pos == 0 && line.startsWith("From "); // the mbox envelope line
            if (mboxFrom || (line.charAt(0) == ' ' || line.charAt(0) == '\t') && name != null) {
                if (!mboxFrom) value.append(' ').append(line.strip()); // folding: the line break is not part of the value
                pos = next;
                continue;
            }
            Matcher header = HEADER_NAME.matcher(line);
            if (!header.lookingAt()) break; // not a header: the body starts here, without a blank line
            if (name != null) headers.putIfAbsent(name, value.toString());
            name = line.substring(0, header.end() - 1).toLowerCase(Locale.ROOT);
            value.setLength(0);
            value.append(line.substring(header.end()).strip());
            pos = next;
        }
        if (name != null) headers.putIfAbsent(name, value.toString());
        return new Part(headers, raw.substring(pos));
    }

    /** {@code type/subtype; key=value; key="quoted; value"}; a quote left open runs to the end. */
    private static HeaderValue parseHeaderValue(String v) {
        Map<String, String> params = new HashMap<>();
        for (Matcher m = PARAM.matcher(v); m.find(); ) {
            String val = m.group(2).strip();
            if (val.startsWith("\"")) val = val.substring(1, val.length() - (val.length() > 1 && val.endsWith("\"") ? 1 : 0));
            params.putIfAbsent(m.group(1).toLowerCase(Locale.ROOT), val);
        }
        return new HeaderValue(v.replaceFirst(";.*", "").strip().toLowerCase(Locale.ROOT), params);
    }

    private static void walk(Part p, int depth, boolean attachmentsToo, StringBuilder out) {
        if (depth > MAX_DEPTH) return;
        HeaderValue ct = parseHeaderValue(p.header("content-type"));
        String type = ct.value().indexOf('/') < 0 ? "text/plain" : ct.value();
        // Some spam is MIME without a Content-Type, or with a wrong boundary: look for the parts' delimiter.
        boolean sniff = type.startsWith("multipart/") || ct.value().isEmpty() && p.headers().containsKey("mime-version");
        String boundary = sniff ? boundary(p.body(), ct.params().get("boundary")) : null;
        if (boundary != null) type = type.startsWith("multipart/") ? type : "multipart/mixed";
        List<String> parts = boundary != null && type.startsWith("multipart/") ? splitMultipart(p.body(), boundary) : null;
        if (parts != null && type.equals("multipart/alternative")) {
            // The first non-blank text/plain alternative, else the first non-blank one.
            String chosen = null;
            for (String raw : parts) {
                Part part = parsePart(raw);
                StringBuilder sb = new StringBuilder();
                walk(part, depth + 1, attachmentsToo, sb);
                if (sb.isEmpty()) continue;
                String partType = parseHeaderValue(part.header("content-type")).value();
                boolean plain = partType.isEmpty() || partType.equals("text/plain");
                if (plain || chosen == null) chosen = sb.toString();
                if (plain) break;
            }
            if (chosen != null) appendBlock(chosen, out);
        } else if (parts != null) {
            for (String raw : parts) walk(parsePart(raw), depth + 1, attachmentsToo, out);
        } else if (type.startsWith("multipart/")) { // no boundary, or it never appears: read the body as text
            appendText(decodeBody(p, ct), false, out);
        } else if (type.equals("message/rfc822")) {
            appendBlock(toText(decodeBody(p, ct), depth + 1), out);
        } else if ((type.startsWith("text/") || type.startsWith("message/"))
                && (attachmentsToo || !parseHeaderValue(p.header("content-disposition")).value().equals("attachment"))) {
            appendText(decodeBody(p, ct), type.equals("text/html"), out);
        } // anything else (images, applications, signatures) carries no text for a classifier
    }

    /** The declared boundary if it appears in the body, else X from the first "--X" line followed by a Content- header. */
    private static String boundary(String body, String declared) {
        if (declared != null && !declared.isEmpty() && body.contains("--" + declared)) return declared;
        Matcher m = DELIMITER.matcher(body);
        return m.find() ? m.group(1).stripTrailing() : null;
    }

    /** The parts between "--boundary" lines (preamble and epilogue dropped, no closing line: to the end), or null. */
    private static List<String> splitMultipart(String body, String boundary) {
        String delimiter = "--" + boundary;
        List<String> parts = new ArrayList<>();
        int partStart = -1;
        for (int pos = 0, nl; pos < body.length(); pos = nl + 1) {
            nl = body.indexOf('\n', pos);
            if (nl < 0) nl = body.length();
            if (!body.startsWith(delimiter, pos)) continue;
            // Only blanks (or "--" for the closing one) may follow: a longer line is another boundary with this prefix.
            String rest = body.substring(pos + delimiter.length(), nl);
            boolean closing = rest.startsWith("--");
            if (!closing && !rest.isBlank()) continue;
            if (partStart >= 0) parts.add(body.substring(partStart, Math.max(partStart, pos - 1)));
            partStart = Math.min(nl + 1, body.length());
            if (closing) return parts.isEmpty() ? null : parts;
        }
        if (partStart >= 0) parts.add(body.substring(partStart));
        return parts.isEmpty() ? null : parts;
    }

    /**
     * Appends a text part. A body not declared text/html is HTML anyway (common in spam) when it starts with a tag or
     * tags are a fifth of it; else its few tags (a web form pasting HTML into a mail) are cut and its lines kept.
     */
    private static void appendText(String text, boolean html, StringBuilder out) {
        if (!html && text.indexOf('<') >= 0) {
            Matcher m = HTML_TAG.matcher(text);
            int start = text.length() - text.stripLeading().length();
            html = m.region(start, text.length()).lookingAt();
            StringBuilder stripped = new StringBuilder(text.length());
            int last = 0, tagChars = 0, tags = 0;
            for (m.reset(); !html && m.find(); last = m.end(), tags++) {
                tagChars += m.end() - m.start();
                String tag = m.group(1).toLowerCase(Locale.ROOT);
                stripped.append(text, last, m.start()).append(BLOCK_TAGS.contains(tag) ? "\n" : tag.equals("td") || tag.equals("th") ? " " : "");
            }
            html |= tags >= 3 && tagChars * 5 >= text.length() - start;
            if (!html) text = stripped.append(text, last, text.length()).toString();
        }
        appendBlock(html ? htmlToText(text) : tidy(text, false), out);
    }

    private static void appendBlock(String text, StringBuilder out) {
        if (!text.isBlank()) out.append(out.isEmpty() ? "" : "\n").append(text);
    }

    private static String decodeBody(Part p, HeaderValue ct) {
        String cte = p.header("content-transfer-encoding").strip().toLowerCase(Locale.ROOT), charset = ct.params().get("charset");
        byte[] bytes = cte.equals("base64") ? base64(p.body()) : null;
        if (bytes != null) return normalizeNewlines(decodeBytes(bytes, charset));
        if (cte.equals("quoted-printable")) return normalizeNewlines(quotedPrintable(p.body(), charset, false));
        return p.body(); // 7bit, 8bit, binary, unknown, or base64 that is not: the corpus text is already decoded
    }

    /** The leading run of base64 lines (a mailing list's footer after them is dropped), or null when there is none. */
    private static byte[] base64(String s) {
        StringBuilder clean = new StringBuilder(s.length());
        for (String line : s.strip().split("\n")) {
            line = line.strip();
            if (!BASE64_LINE.matcher(line).matches()) break;
            int eq = line.indexOf('=');
            clean.append(line, 0, eq < 0 ? line.length() : eq);
            if (eq >= 0) break; // padding ends the data
        }
        try { // a last group of one char carries no whole byte
            return clean.isEmpty() ? null : Base64.getDecoder().decode(clean.substring(0, clean.length() - (clean.length() % 4 == 1 ? 1 : 0)));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /**
     * Quoted-printable (RFC 2045; with {@code underscoreIsSpace}, RFC 2047's "Q"). The corpus text is
     * already decoded, so a literal non-ASCII char is kept as is while =XX bytes go through the charset.
     */
    private static String quotedPrintable(String s, String charset, boolean underscoreIsSpace) {
        StringBuilder out = new StringBuilder(s.length());
        byte[] buf = new byte[s.length()];
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '=') {
                int j = i + 1;
                while (j < s.length() && (s.charAt(j) == ' ' || s.charAt(j) == '\t')) j++;
                if (j == s.length() || s.charAt(j) == '\n') { i = j; continue; } // a soft line break
                int hi = i + 2 < s.length() ? Character.digit(s.charAt(i + 1), 16) : -1, lo = hi >= 0 ? Character.digit(s.charAt(i + 2), 16) : -1;
                buf[n++] = lo >= 0 ? (byte) (hi << 4 | lo) : (byte) '='; // a stray '=' stays
                if (lo >= 0) i += 2;
            } else if (c < 0x80) {
                buf[n++] = (byte) (c == '_' && underscoreIsSpace ? ' ' : c);
            } else {
                out.append(decodeBytes(Arrays.copyOf(buf, n), charset)).append(c);
                n = 0;
            }
        }
        return out.append(decodeBytes(Arrays.copyOf(buf, n), charset)).toString();
    }

    /**
     * Bytes to text in the declared charset when Java knows it. Undeclared and unknown charsets, US-ASCII
     * and ISO-8859-1 get UTF-8 when the bytes are valid UTF-8, else windows-1252 (as browsers do).
     */
    static String decodeBytes(byte[] bytes, String charsetName) {
        Charset cs = null;
        String name = charsetName == null ? "" : charsetName.strip().replaceFirst("\\*.*", ""); // RFC 2231: utf-8*en
        try {
            if (!name.isEmpty()) cs = Charset.forName(name);
        } catch (RuntimeException e) { /* an illegal or unsupported name: guess as if undeclared */ }
        if (cs != null && !cs.equals(StandardCharsets.US_ASCII) && !cs.equals(StandardCharsets.ISO_8859_1)) return new String(bytes, cs);
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString(); // a new decoder reports errors
        } catch (CharacterCodingException e) {
            return new String(bytes, FALLBACK);
        }
    }

    /** RFC 2047 encoded-words; blanks between two adjacent encoded-words are dropped, as the RFC says. */
    static String decodeEncodedWords(String s) {
        if (!s.contains("=?")) return s;
        StringBuilder out = new StringBuilder();
        Matcher m = ENCODED_WORD.matcher(s);
        int last = 0;
        while (m.find()) {
            String between = s.substring(last, m.start());
            if (last == 0 || !between.isBlank()) out.append(between);
            byte[] bytes = m.group(2).equalsIgnoreCase("B") ? base64(m.group(3)) : null;
            out.append(bytes != null ? decodeBytes(bytes, m.group(1))
                    : m.group(2).equalsIgnoreCase("Q") ? quotedPrintable(m.group(3), m.group(1), true) : m.group());
            last = m.end();
        }
        return out.append(s, last, s.length()).toString();
    }

    /** HTML to text: scripts, styles and comments dropped, block tags become line breaks, entities decoded. */
    static String htmlToText(String html) {
        html = dropScriptsAndStyles(html);
        StringBuilder out = new StringBuilder(html.length() / 2);
        int n = html.length(), i = 0;
        // The next '>' and "-->" at or after the scan position, or n when there is none: searched for again only
        // once passed, so text full of '<' without a '>' after them costs one scan, not one per '<'.
        int nextGt = -1, nextCommentEnd = -1;
        while (i < n) {
            char c = html.charAt(i);
            if (c == '&') { i = appendEntity(html, i, out); continue; }
            i++;
            if (c != '<') {
                if (Character.isWhitespace(c) || c == '\u00a0') appendSpace(out); // source line breaks are blanks
                else out.append(c);
                continue;
            }
            if (html.startsWith("!--", i)) { // an unclosed comment ends at the next '>': spam has "<!--#rotate>" text
                if (nextCommentEnd < i + 3) nextCommentEnd = indexOrEnd(html.indexOf("-->", i + 3), n);
                if (nextGt < i + 3) nextGt = indexOrEnd(html.indexOf('>', i + 3), n);
                i = nextCommentEnd < n ? nextCommentEnd + 3 : nextGt < n ? nextGt + 1 : n;
                continue;
            }
            boolean closing = i < n && html.charAt(i) == '/', special = i < n && (html.charAt(i) == '!' || html.charAt(i) == '?');
            int j = closing ? i + 1 : i;
            while (j < n && Character.isLetterOrDigit(html.charAt(j))) j++;
            String name = html.substring(closing ? i + 1 : i, j).toLowerCase(Locale.ROOT);
            if (nextGt < j) nextGt = indexOrEnd(html.indexOf('>', j), n);
            int gt = nextGt < n ? nextGt : -1;
            if (gt < 0 || !special && (name.isEmpty() || !Character.isLetter(name.charAt(0)))) {
                out.append('<'); // a lone '<' in the text, not a tag
                continue;
            }
            i = gt + 1;
            // <br> and <p> always break the line (so paragraphs get a blank line between them); other blocks start a new line.
            if (name.equals("br") || name.equals("p")) out.append('\n');
            else if (BLOCK_TAGS.contains(name) && !out.isEmpty() && out.charAt(out.length() - 1) != '\n') out.append('\n');
            else if (name.equals("td") || name.equals("th")) appendSpace(out);
        }
        return tidy(out.toString(), true);
    }

    private static int indexOrEnd(int index, int n) {
        return index < 0 ? n : index;
    }

    /**
     * Drops script and style elements: from {@code <script} to the first {@code >}, then to the matching
     * end tag or the end of the text, each replaced by a blank. Written as a scan because the regex
     * {@code <(script|style)\b[^>]*+>.*?(</\1\s*>|\z)} rescans to the end from every start tag that has no
     * {@code >} after it: quadratic in text holding many.
     */
    static String dropScriptsAndStyles(String html) {
        Matcher open = SCRIPT_STYLE_OPEN.matcher(html);
        if (!open.find()) return html;
        StringBuilder out = new StringBuilder(html.length());
        int n = html.length(), last = 0;
        do {
            int gt = html.indexOf('>', open.end());
            if (gt < 0) break; // no later start tag can end either
            Matcher close = (open.group(1).equalsIgnoreCase("script") ? SCRIPT_CLOSE : STYLE_CLOSE).matcher(html).region(gt + 1, n);
            int end = close.find() ? close.end() : n;
            out.append(html, last, open.start()).append(' ');
            last = end;
        } while (last < n && open.find(last));
        return out.append(html, last, n).toString();
    }

    private static void appendSpace(StringBuilder out) {
        if (!out.isEmpty() && out.charAt(out.length() - 1) != ' ' && out.charAt(out.length() - 1) != '\n') out.append(' ');
    }

    /** Decodes the entity at {@code amp} (or keeps a lone '&'); returns the index after it. */
    private static int appendEntity(String s, int amp, StringBuilder out) {
        int j = amp + 1;
        if (j < s.length() && s.charAt(j) == '#') {
            boolean hex = j + 1 < s.length() && (s.charAt(j + 1) == 'x' || s.charAt(j + 1) == 'X');
            int k = j + (hex ? 2 : 1), start = k;
            while (k < s.length() && k - start < 8 && Character.digit(s.charAt(k), hex ? 16 : 10) >= 0) k++;
            if (k > start) {
                long cp = Long.parseLong(s.substring(start, k), hex ? 16 : 10);
                if (cp == 0xa0) appendSpace(out);
                // As in browsers, &#128;..&#159; mean windows-1252 characters (old pages wrote &#146; for a quote).
                else if (cp >= 0x80 && cp <= 0x9f) out.append(new String(new byte[] {(byte) cp}, FALLBACK));
                else if (cp > 0 && cp <= Character.MAX_CODE_POINT && (cp < 0xd800 || cp > 0xdfff)) out.appendCodePoint((int) cp);
                return k < s.length() && s.charAt(k) == ';' ? k + 1 : k;
            }
        } else {
            int k = j;
            while (k < s.length() && k - j < 10 && Character.isLetterOrDigit(s.charAt(k))) k++;
            String value = ENTITIES.get(s.substring(j, k));
            if (value != null) { // the ';' is optional, as browsers read legacy pages
                if (value.equals("\u00a0")) appendSpace(out); else out.append(value);
                return k < s.length() && s.charAt(k) == ';' ? k + 1 : k;
            }
        }
        out.append('&');
        return amp + 1;
    }

    private static Map<String, String> entities() {
        Map<String, String> m = new HashMap<>();
        for (String pair : ("amp=& lt=< gt=> quot=\" apos=' copy=\u00a9 reg=\u00ae trade=\u2122 hellip=\u2026 mdash=\u2014"
                + " ndash=\u2013 lsquo=\u2018 rsquo=\u2019 ldquo=\u201c rdquo=\u201d sbquo=\u201a bdquo=\u201e bull=\u2022"
                + " middot=\u00b7 laquo=\u00ab raquo=\u00bb euro=\u20ac pound=\u00a3 yen=\u00a5 cent=\u00a2 sect=\u00a7"
                + " para=\u00b6 deg=\u00b0 plusmn=\u00b1 times=\u00d7 divide=\u00f7 frac12=\u00bd frac14=\u00bc"
                + " frac34=\u00be iexcl=\u00a1 iquest=\u00bf dagger=\u2020 larr=\u2190 rarr=\u2192 uarr=\u2191"
                + " darr=\u2193 szlig=\u00df aelig=\u00e6 AElig=\u00c6 oslash=\u00f8 Oslash=\u00d8 ccedil=\u00e7"
                + " Ccedil=\u00c7 ntilde=\u00f1 Ntilde=\u00d1 shy= zwnj= zwj= nbsp=\u00a0 ensp=\u00a0 emsp=\u00a0 thinsp=\u00a0").split(" ")) {
            m.put(pair.substring(0, pair.indexOf('=')), pair.substring(pair.indexOf('=') + 1));
        }
        // Accented letters (&eacute; &Uuml; ...): the letter and the combining mark, composed.
        String[][] marks = {{"acute", "\u0301"}, {"grave", "\u0300"}, {"circ", "\u0302"}, {"uml", "\u0308"}, {"tilde", "\u0303"}, {"ring", "\u030a"}};
        for (char v : "aeiouyAEIOUY".toCharArray()) for (String[] mark : marks) {
            String composed = Normalizer.normalize(v + mark[1], Normalizer.Form.NFC);
            if (composed.length() == 1) m.put(v + mark[0], composed);
        }
        return Map.copyOf(m);
    }

    /** Blanks ending lines (and starting them, for HTML) dropped, blank lines collapsed to one and trimmed at both ends. */
    static String tidy(String s, boolean stripLeading) {
        String t = (stripLeading ? LINE_BLANKS : TRAILING_BLANKS).matcher(s).replaceAll("");
        return BLANK_LINES.matcher(EDGE_NEWLINES.matcher(t).replaceAll("")).replaceAll("\n\n");
    }
}
