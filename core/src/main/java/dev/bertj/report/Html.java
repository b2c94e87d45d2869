package dev.bertj.report;

import dev.bertj.io.Json;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * What bertj's self-contained HTML pages share: escaping, the readable JS and CSS files kept as
 * resources (inlined at run time, so a page needs no network), and JSON data embedded in a
 * {@code <script type="application/json">} element.
 */
public final class Html {
    private Html() { }

    /** {@code s} escaped for HTML text and attribute values. */
    public static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    /**
     * {@code value} as JSON that can sit inside a {@code <script>} element: every {@code <} is
     * written as the JSON escape for code point 3C (it can only occur inside JSON strings), so a text containing
     * {@code </script>} or {@code <!--} cannot end the element early.
     */
    public static String scriptJson(Object value) {
        return Json.write(value).replace("<", "\\u003c");
    }

    /** A UTF-8 text resource next to {@code owner}'s class file (part of bertj-core's jar). */
    public static String resource(Class<?> owner, String name) {
        try (InputStream in = owner.getResourceAsStream(name)) {
            if (in == null) throw new IllegalStateException("bertj-core lacks the resource " + name + " beside " + owner.getName());
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("could not read the resource " + name, e);
        }
    }

    /**
     * {@code template} with each {@code {{key}}} replaced by its value (pairs of key, value), in one
     * pass over the template: a value is inserted literally and never scanned for marks itself.
     */
    public static String fill(String template, String... keyValues) {
        java.util.Map<String, String> values = new java.util.HashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) values.put(keyValues[i], keyValues[i + 1]);
        StringBuilder out = new StringBuilder(template.length() + values.values().stream().mapToInt(String::length).sum());
        int from = 0;
        for (int at; (at = template.indexOf("{{", from)) >= 0; ) {
            int end = template.indexOf("}}", at);
            String key = end < 0 ? null : template.substring(at + 2, end);
            if (key == null || !values.containsKey(key)) throw new IllegalStateException("the page template has an unknown mark at " + at);
            out.append(template, from, at).append(values.get(key));
            from = end + 2;
        }
        return out.append(template, from, template.length()).toString();
    }
}
