package dev.bertj.io;

import java.lang.reflect.Array;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A small RFC 8259 JSON reader and writer, so that {@code dev.bertj} needs no runtime dependencies.
 *
 * <p>Parsing yields plain collections: {@link LinkedHashMap} for objects (key order is kept, so a
 * config read and written back keeps every key, known or not), {@link ArrayList} for arrays, {@link
 * String}, {@link Long} for integers that fit, {@link Double} for other numbers, {@link Boolean}
 * and {@code null}. Writing follows Python's {@code json.dumps(ensure_ascii=False)}, the tool that
 * wrote most files bertj reads, so files bertj writes diff cleanly against theirs.
 */
public final class Json {

    /** Deepest nesting accepted; the parser recurses, and this keeps it far from any stack limit. */
    public static final int MAX_DEPTH = 512;

    private static final String HEX = "0123456789abcdef";

    private Json() {}

    /**
     * Malformed JSON, or a value of the wrong type. Parse errors read {@code source:line:column:
     * message}, so they point into the file.
     */
    public static final class JsonException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        /** Creates an exception with a complete message. */
        public JsonException(String message) {
            super(message);
        }
    }

    /** Parses {@code text}; errors name the source {@code <input>}. */
    public static Object parse(String text) {
        return parse(text, null);
    }

    /**
     * Parses {@code text}, naming {@code source} (a file name, say) in error messages.
     *
     * @throws JsonException if {@code text} is not exactly one JSON value, or nests deeper than
     *     {@link #MAX_DEPTH}
     */
    public static Object parse(String text, String source) {
        Objects.requireNonNull(text, "text");
        Parser p = new Parser(text, source == null ? "<input>" : source);
        // RFC 8259 section 8.1 lets parsers ignore a byte order mark; editors on Windows add one.
        if (!text.isEmpty() && text.charAt(0) == '\uFEFF') p.pos = 1;
        Object value = p.value(0);
        p.skipWhitespace();
        if (p.pos < text.length()) throw p.expected("end of input");
        return value;
    }

    private static final class Parser {
        final String text;
        final String source;
        final int n;
        int pos;

        Parser(String text, String source) {
            this.text = text;
            this.source = source;
            this.n = text.length();
        }

        int peek() {
            return pos < n ? text.charAt(pos) : -1;
        }

        boolean consume(char c) {
            if (peek() != c) return false;
            pos++;
            return true;
        }

        void skipWhitespace() {
            while (pos < n) {
                char c = text.charAt(pos);
                if (c != ' ' && c != '\n' && c != '\r' && c != '\t') return;
                pos++;
            }
        }

        /** Parses a value; {@code depth} is the number of containers around it. */
        Object value(int depth) {
            skipWhitespace();
            int c = peek();
            switch (c) {
                case '{': return object(depth + 1);
                case '[': return array(depth + 1);
                case '"': return string();
                case 't': return literal("true", Boolean.TRUE);
                case 'f': return literal("false", Boolean.FALSE);
                case 'n': return literal("null", null);
                default:
                    if (c == '-' || (c >= '0' && c <= '9')) return number();
                    throw expected("a JSON value");
            }
        }

        Object literal(String word, Object value) {
            if (!text.startsWith(word, pos)) throw expected("'" + word + "'");
            pos += word.length();
            return value;
        }

        void enter(int depth) {
            if (depth > MAX_DEPTH) {
                throw fail(pos, "nesting deeper than " + MAX_DEPTH + " levels is not supported");
            }
            pos++;
            skipWhitespace();
        }

        Map<String, Object> object(int depth) {
            enter(depth);
            Map<String, Object> map = new LinkedHashMap<>();
            if (consume('}')) return map;
            boolean first = true;
            while (true) {
                if (peek() != '"') throw expected(first ? "a string key or '}'" : "a string key");
                first = false;
                String key = string();
                skipWhitespace();
                if (!consume(':')) throw expected("':'");
                map.put(key, value(depth)); // a repeated key replaces the earlier one, as in Python
                skipWhitespace();
                if (consume('}')) return map;
                if (!consume(',')) throw expected("',' or '}'");
                skipWhitespace();
            }
        }

        List<Object> array(int depth) {
            enter(depth);
            List<Object> list = new ArrayList<>();
            if (consume(']')) return list;
            while (true) {
                list.add(value(depth));
                skipWhitespace();
                if (consume(']')) return list;
                if (!consume(',')) throw expected("',' or ']'");
            }
        }

        String string() {
            int start = pos; // the opening quote
            int run = start + 1;
            StringBuilder sb = null; // most strings have no escapes and become one substring
            for (int i = run; ; ) {
                if (i >= n) throw fail(start, "unterminated string");
                char c = text.charAt(i);
                if (c == '"') {
                    pos = i + 1;
                    return sb == null ? text.substring(run, i) : sb.append(text, run, i).toString();
                }
                if (c < 0x20) throw fail(i, "control character " + found(i) + " must be escaped in a string");
                if (c != '\\') {
                    i++;
                    continue;
                }
                if (sb == null) sb = new StringBuilder(i - start + 16);
                sb.append(text, run, i);
                if (i + 1 >= n) throw fail(start, "unterminated string");
                char e = text.charAt(i + 1);
                switch (e) {
                    case '"', '\\', '/' -> sb.append(e);
                    case 'b' -> sb.append('\b');
                    case 'f' -> sb.append('\f');
                    case 'n' -> sb.append('\n');
                    case 'r' -> sb.append('\r');
                    case 't' -> sb.append('\t');
                    case 'u' -> {
                        int v = 0;
                        for (int k = i + 2; k < i + 6; k++) {
                            // ASCII only: Character.digit alone would take Arabic-Indic digits too.
                            int d = k < n && text.charAt(k) < 128 ? Character.digit(text.charAt(k), 16) : -1;
                            if (d < 0) throw expectedAt(k, "a hex digit");
                            v = (v << 4) | d;
                        }
                        sb.append((char) v); // a lone surrogate is kept: HF vocabularies contain them
                        i += 4;
                    }
                    default -> throw fail(i, "invalid escape '\\" + e + "'");
                }
                i += 2;
                run = i;
            }
        }

        Object number() {
            int start = pos;
            int i = text.charAt(start) == '-' ? start + 1 : start;
            if (i < n && text.charAt(i) == '0') {
                if (i + 1 < n && isDigit(text.charAt(i + 1))) throw fail(start, "leading zeros are not allowed");
                i++;
            } else {
                i = digits(i, "a digit");
            }
            boolean integral = true;
            if (i < n && text.charAt(i) == '.') {
                integral = false;
                i = digits(i + 1, "a digit after '.'");
            }
            if (i < n && (text.charAt(i) == 'e' || text.charAt(i) == 'E')) {
                integral = false;
                i++;
                if (i < n && (text.charAt(i) == '+' || text.charAt(i) == '-')) i++;
                i = digits(i, "a digit in the exponent");
            }
            pos = i;
            if (integral) {
                try {
                    return Long.parseLong(text, start, i, 10);
                } catch (NumberFormatException beyondLong) {
                    // read as a double below: bertj has no use for bigger integers
                }
            }
            String literal = text.substring(start, i);
            double d = Double.parseDouble(literal);
            if (Double.isInfinite(d)) throw fail(start, "number " + literal + " is out of range for a double");
            return d;
        }

        /** Skips one or more digits starting at {@code i}; returns the index after them. */
        int digits(int i, String what) {
            if (i >= n || !isDigit(text.charAt(i))) throw expectedAt(i, what);
            while (i < n && isDigit(text.charAt(i))) i++;
            return i;
        }

        static boolean isDigit(char c) {
            return c >= '0' && c <= '9';
        }

        JsonException expected(String what) {
            return expectedAt(pos, what);
        }

        JsonException expectedAt(int at, String what) {
            return fail(at, "expected " + what + " but found " + found(at));
        }

        String found(int at) {
            if (at >= n) return "end of input";
            int cp = text.codePointAt(at);
            boolean invisible = Character.isISOControl(cp) || Character.isWhitespace(cp)
                    || Character.isSpaceChar(cp) || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFEFF;
            return invisible ? String.format("U+%04X", cp) : "'" + Character.toString(cp) + "'";
        }

        /** Builds the error; line and column are computed only here, keeping the parse loop lean. */
        JsonException fail(int at, String message) {
            int end = Math.min(at, n);
            int line = 1;
            int lineStart = 0;
            for (int k = 0; k < end; k++) {
                char c = text.charAt(k);
                if (c == '\n' || (c == '\r' && (k + 1 >= n || text.charAt(k + 1) != '\n'))) {
                    line++;
                    lineStart = k + 1;
                }
            }
            int column = text.codePointCount(lineStart, end) + 1;
            return new JsonException(source + ":" + line + ":" + column + ": " + message);
        }
    }

    /** Writes {@code value} with no whitespace at all. */
    public static String write(Object value) {
        StringBuilder out = new StringBuilder();
        writeValue(value, out, false, 0);
        return out.toString();
    }

    /**
     * Writes {@code value} exactly as Python's {@code json.dumps(value, indent=2,
     * ensure_ascii=False)} would, apart from how doubles are spelled ({@code 1.0E-5} for {@code
     * 1e-05}): each item on its own line, {@code "key": value}, empty containers as {@code {}} and
     * {@code []}, no trailing newline.
     */
    public static String writePretty(Object value) {
        StringBuilder out = new StringBuilder();
        writeValue(value, out, true, 0);
        return out.toString();
    }

    private static void writeValue(Object v, StringBuilder out, boolean pretty, int depth) {
        switch (v) {
            case null -> out.append("null");
            case String s -> writeString(s, out);
            case Character c -> writeString(String.valueOf(c.charValue()), out);
            case Boolean b -> out.append(b.booleanValue());
            case Double d -> appendDouble(d, out);
            case Float f -> appendFloat(f, out);
            // BigDecimal's toString is valid JSON too, e.g. 1E+3.
            case Long _, Integer _, Short _, Byte _, BigInteger _, BigDecimal _ -> out.append(v);
            case Map<?, ?> m -> writeMap(m, out, pretty, depth);
            case Collection<?> c -> writeArray(c, c.size(), out, pretty, depth);
            case Object[] _, int[] _, long[] _, float[] _, double[] _, boolean[] _ ->
                    writeArray(v, Array.getLength(v), out, pretty, depth);
            default -> throw new IllegalArgumentException("cannot write a " + v.getClass().getName()
                    + " as JSON; supported are Map, Collection, arrays, String, Character, Boolean, null,"
                    + " boxed numbers, BigInteger and BigDecimal");
        }
    }

    private static void writeMap(Map<?, ?> map, StringBuilder out, boolean pretty, int depth) {
        if (map.isEmpty()) {
            out.append("{}");
            return;
        }
        open(out, '{', depth);
        boolean first = true;
        for (Map.Entry<?, ?> e : map.entrySet()) {
            item(out, first, pretty, depth + 1);
            first = false;
            writeString(String.valueOf(e.getKey()), out);
            out.append(pretty ? ": " : ":");
            writeValue(e.getValue(), out, pretty, depth + 1);
        }
        close(out, '}', pretty, depth);
    }

    /** Writes a Collection or any supported array as a JSON array of {@code length} items. */
    private static void writeArray(Object array, int length, StringBuilder out, boolean pretty, int depth) {
        if (length == 0) {
            out.append("[]");
            return;
        }
        open(out, '[', depth);
        Iterator<?> it = array instanceof Collection<?> c ? c.iterator() : null;
        for (int i = 0; i < length; i++) {
            item(out, i == 0, pretty, depth + 1);
            switch (array) {
                case Collection<?> _ -> writeValue(it.next(), out, pretty, depth + 1);
                case int[] a -> out.append(a[i]);
                case long[] a -> out.append(a[i]);
                case float[] a -> appendFloat(a[i], out);
                case double[] a -> appendDouble(a[i], out);
                case boolean[] a -> out.append(a[i]);
                case Object[] a -> writeValue(a[i], out, pretty, depth + 1);
                default -> throw new AssertionError(array.getClass());
            }
        }
        close(out, ']', pretty, depth);
    }

    private static void open(StringBuilder out, char bracket, int depth) {
        // A cycle would otherwise recurse until StackOverflowError.
        if (depth >= MAX_DEPTH) {
            throw new JsonException("cannot write JSON nested deeper than " + MAX_DEPTH
                    + " levels; does the value contain itself?");
        }
        out.append(bracket);
    }

    private static void item(StringBuilder out, boolean first, boolean pretty, int depth) {
        if (!first) out.append(',');
        if (pretty) indent(out, depth);
    }

    private static void close(StringBuilder out, char bracket, boolean pretty, int depth) {
        if (pretty) indent(out, depth);
        out.append(bracket);
    }

    private static void indent(StringBuilder out, int depth) {
        out.append('\n');
        for (int i = 0; i < depth; i++) out.append("  ");
    }

    private static void appendDouble(double d, StringBuilder out) {
        if (!Double.isFinite(d)) throw new JsonException("cannot write " + d + ": JSON has no NaN or Infinity");
        out.append(d); // shortest repr that reads back to the same double
    }

    private static void appendFloat(float f, StringBuilder out) {
        if (!Float.isFinite(f)) throw new JsonException("cannot write " + f + ": JSON has no NaN or Infinity");
        out.append(f); // the float's shortest repr: 0.1f writes as 0.1, not 0.10000000149011612
    }

    /**
     * Appends {@code s} as a quoted JSON string, escaped as Python's {@code
     * json.dumps(ensure_ascii=False)} does: {@code " \ \b \f \n \r \t} by name, other controls
     * as <code>&#92;u00XX</code>, everything else raw. Lone surrogates become
     * <code>&#92;udXXX</code> so the output still encodes as UTF-8 (Python would fail instead).
     */
    public static void writeString(String s, StringBuilder out) {
        int n = s.length();
        out.append('"');
        int run = 0;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c != '"' && c != '\\' && !Character.isSurrogate(c)) continue;
            if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++; // a valid pair stays raw
                continue;
            }
            out.append(s, run, i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> out.append("\\u")
                        .append(HEX.charAt(c >> 12)).append(HEX.charAt((c >> 8) & 15))
                        .append(HEX.charAt((c >> 4) & 15)).append(HEX.charAt(c & 15));
            }
            run = i + 1;
        }
        out.append(s, run, n).append('"');
    }

    /** Returns {@code v} as a JSON object, or throws naming {@code what} (a key, say). */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> asObject(Object v, String what) {
        if (v instanceof Map<?, ?> m) return (Map<String, Object>) m;
        throw mismatch("an object", v, what);
    }

    /** Returns {@code v} as a JSON array, or throws naming {@code what}. */
    @SuppressWarnings("unchecked")
    public static List<Object> asArray(Object v, String what) {
        if (v instanceof List<?> l) return (List<Object>) l;
        throw mismatch("an array", v, what);
    }

    /** Returns {@code v} as a string, or throws naming {@code what}. */
    public static String asString(Object v, String what) {
        if (v instanceof String s) return s;
        throw mismatch("a string", v, what);
    }

    /**
     * Returns {@code v} as a long. An integral double within range is accepted too, because Python
     * writes {@code 512.0} for a value that went through a float.
     */
    public static long asLong(Object v, String what) {
        switch (v) {
            case Long _, Integer _, Short _, Byte _ -> { return ((Number) v).longValue(); }
            case Double d when d == Math.rint(d) && d >= -0x1p63 && d < 0x1p63 -> { return d.longValue(); }
            case Number num -> throw new JsonException("expected an integer for " + what + " but found " + num);
            case null, default -> throw mismatch("an integer", v, what);
        }
    }

    /** Returns {@code v} as a double, or throws naming {@code what}. */
    public static double asDouble(Object v, String what) {
        if (v instanceof Number num) return num.doubleValue();
        throw mismatch("a number", v, what);
    }

    /** Returns {@code v} as a boolean, or throws naming {@code what}. */
    public static boolean asBoolean(Object v, String what) {
        if (v instanceof Boolean b) return b;
        throw mismatch("a boolean", v, what);
    }

    private static JsonException mismatch(String expected, Object v, String what) {
        String found = switch (v) {
            case null -> "null";
            case Map<?, ?> _ -> "an object";
            case List<?> _ -> "an array";
            case String _ -> "a string";
            case Boolean _ -> "a boolean";
            case Number _ -> "a number";
            default -> "a " + v.getClass().getName();
        };
        return new JsonException("expected " + expected + " for " + what + " but found " + found);
    }
}
