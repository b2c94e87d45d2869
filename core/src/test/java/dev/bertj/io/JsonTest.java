package dev.bertj.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bertj.io.Json.JsonException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class JsonTest {

    private static Map<String, Object> map(Object... keysAndValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) m.put((String) keysAndValues[i], keysAndValues[i + 1]);
        return m;
    }

    private static List<Object> list(Object... items) {
        List<Object> l = new ArrayList<>();
        for (Object item : items) l.add(item); // List.of rejects null
        return l;
    }

    /** A small nested config; the expected strings below were produced from it by Python's json module. */
    private static Map<String, Object> example() {
        return map(
                "name", "bert",
                "vocab", map("[PAD]", 0L, "é", 1L, "tab\there", 2L),
                "layers", list(map("heads", 12L, "dropout", 0.1, "bias", true),
                        map("empty", map(), "none", null, "list", list())),
                "nested", list(list(1L, 2L), list()),
                "flags", list(false));
    }

    @Test
    void prettyOutputMatchesPython() {
        // Output of Python 3's json.dumps(example, indent=2, ensure_ascii=False).
        String python = """
                {
                  "name": "bert",
                  "vocab": {
                    "[PAD]": 0,
                    "é": 1,
                    "tab\\there": 2
                  },
                  "layers": [
                    {
                      "heads": 12,
                      "dropout": 0.1,
                      "bias": true
                    },
                    {
                      "empty": {},
                      "none": null,
                      "list": []
                    }
                  ],
                  "nested": [
                    [
                      1,
                      2
                    ],
                    []
                  ],
                  "flags": [
                    false
                  ]
                }""";
        assertEquals(python, Json.writePretty(example()));
    }

    @Test
    void compactOutputMatchesPython() {
        // Output of Python 3's json.dumps(example, separators=(",", ":"), ensure_ascii=False).
        String python = "{\"name\":\"bert\",\"vocab\":{\"[PAD]\":0,\"é\":1,\"tab\\there\":2},"
                + "\"layers\":[{\"heads\":12,\"dropout\":0.1,\"bias\":true},{\"empty\":{},\"none\":null,\"list\":[]}],"
                + "\"nested\":[[1,2],[]],\"flags\":[false]}";
        assertEquals(python, Json.write(example()));
    }

    @Test
    void roundTripKeepsValuesTypesAndKeyOrder() {
        Map<String, Object> value = example();
        assertEquals(value, Json.parse(Json.write(value)));
        assertEquals(value, Json.parse(Json.writePretty(value)));
        Object parsed = Json.parse("{\"z\": 1, \"a\": 2, \"unknown_key\": [1, 2.5, \"x\", null, true]}");
        assertInstanceOf(LinkedHashMap.class, parsed);
        assertEquals(List.of("z", "a", "unknown_key"), new ArrayList<>(Json.asObject(parsed, "root").keySet()));
        assertInstanceOf(ArrayList.class, Json.asObject(parsed, "root").get("unknown_key"));
        assertEquals("{\"z\":1,\"a\":2,\"unknown_key\":[1,2.5,\"x\",null,true]}", Json.write(parsed));
    }

    @Test
    void scalarsAtTopLevelAndWhitespace() {
        assertEquals(Boolean.TRUE, Json.parse(" true "));
        assertEquals(Boolean.FALSE, Json.parse("\tfalse\r\n"));
        assertNull(Json.parse("null"));
        assertEquals("s", Json.parse("\"s\""));
        assertEquals(List.of(), Json.parse("[ ]"));
        assertEquals(Map.of(), Json.parse("{ \n }"));
        assertEquals(7L, Json.parse("\uFEFF7"), "a leading byte order mark is ignored");
    }

    @Test
    void duplicateKeysLastWins() {
        Map<String, Object> m = Json.asObject(Json.parse("{\"a\": 1, \"b\": 2, \"a\": 3}"), "root");
        assertEquals(map("a", 3L, "b", 2L), m);
        assertEquals("{\"a\":3,\"b\":2}", Json.write(m), "same key order as Python's dict");
    }

    @Test
    void everyEscapeParses() {
        assertEquals("\"\\/\b\f\n\r\t", Json.parse("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\""));
        assertEquals("Aé\u0000\u001f\u2028", Json.parse("\"\\u0041\\u00E9\\u0000\\u001F\\u2028\""));
        assertEquals("a\"b", Json.parse("\"a\\\"b\""), "escape in the middle");
        assertEquals("é€\u007f", Json.parse("\"é€\u007f\""), "raw non-ASCII and DEL need no escape");
    }

    @Test
    void writeStringEscapesLikePython() {
        // Python 3: json.dumps("\x00\x1f\x7f\u2028\"\\\b\f\t\r\n/é", ensure_ascii=False)
        StringBuilder out = new StringBuilder();
        Json.writeString("\u0000\u001f\u007f\u2028\"\\\b\f\t\r\n/é", out);
        assertEquals("\"\\u0000\\u001f\u007f\u2028\\\"\\\\\\b\\f\\t\\r\\n/é\"", out.toString());
        out.setLength(0);
        Json.writeString("", out);
        assertEquals("\"\"", out.toString());
        String all = new StringBuilder().appendCodePoint(0).append("\u0001 ~\u0080\uffff").toString();
        assertEquals(all, Json.parse(Json.write(all)));
    }

    @Test
    void surrogatePairs() {
        String emoji = "\uD83D\uDE00"; // U+1F600
        assertEquals(emoji, Json.parse("\"\\ud83d\\ude00\""));
        assertEquals(emoji, Json.parse("\"" + emoji + "\""));
        assertEquals("\"x" + emoji + "\"", Json.write("x" + emoji), "a valid pair is written raw");
    }

    @Test
    void loneSurrogatesAreKeptAndEscapedOnWrite() {
        assertEquals("\uD800", Json.parse("\"\\ud800\""));
        assertEquals("\uDC00x", Json.parse("\"\\udc00x\""));
        assertEquals("a\uDBFF", Json.parse("\"a\\uDBFF\""));
        assertEquals("\"\\ud800\"", Json.write("\uD800"));
        assertEquals("\"\\udc00\\ud800\"", Json.write("\uDC00\uD800"), "reversed pair is two lone surrogates");
        assertEquals("\"a\\ud83d\"", Json.write("a\uD83D"), "high surrogate at the end");
        String odd = "\uDE00\uD83D\uDE00\uD83D";
        assertEquals(odd, Json.parse(Json.write(odd)));
    }

    @Test
    void integersAreLongsToTheEdgeOfTheRange() {
        assertEquals(0L, Json.parse("0"));
        assertEquals(0L, Json.parse("-0"));
        assertEquals(123456789012345678L, Json.parse("123456789012345678"));
        assertEquals(-999999999999999999L, Json.parse("-999999999999999999"));
        assertEquals(Long.MAX_VALUE, Json.parse("9223372036854775807"));
        assertEquals(Long.MIN_VALUE, Json.parse("-9223372036854775808"));
        assertEquals(9.223372036854775808E18, Json.parse("9223372036854775808"));
        assertEquals(-9.223372036854775809E18, Json.parse("-9223372036854775809"));
        // HF's tokenizer_config.json has "model_max_length": 1000000000000000019884624838656.
        assertEquals(1e30, Json.parse("1000000000000000019884624838656"));
        assertEquals("[-9223372036854775808,9223372036854775807]", Json.write(List.of(Long.MIN_VALUE, Long.MAX_VALUE)));
    }

    @Test
    void fractionsAndExponentsAreDoubles() {
        assertEquals(1.5, Json.parse("1.5"));
        assertEquals(-0.0, Json.parse("-0.0"));
        assertEquals(1000.0, Json.parse("1e3"));
        assertEquals(100.0, Json.parse("1E+2"));
        assertEquals(0.01, Json.parse("1e-2"));
        assertEquals(-12.5e-7, Json.parse("-12.5e-7"));
        assertEquals(0.0, Json.parse("0e0"));
        assertEquals(Double.MIN_VALUE, Json.parse("4.9e-324"));
        assertEquals(Double.MAX_VALUE, Json.parse("1.7976931348623157e308"));
        assertEquals(0.0, Json.parse("1e-400"), "underflow rounds to zero, as in Python");
    }

    @Test
    void writesNumbers() {
        assertEquals("[1.0,-0.0,0.1,1.0E-5,1.0E20,2.5]", Json.write(List.of(1.0, -0.0, 0.1, 1e-5, 1e20, 2.5f)));
        assertEquals("[0.1,3.4028235E38]", Json.write(new float[] {0.1f, Float.MAX_VALUE}), "floats shortest as float");
        assertEquals("[1,2,3,4,5,6]", Json.write(List.of((byte) 1, (short) 2, 3, 4L, BigInteger.valueOf(5), 6L)));
        assertEquals("[[1,-2],[3],[0.5],[true,false],[\"a\",null],[]]",
                Json.write(new Object[] {new int[] {1, -2}, new long[] {3}, new double[] {0.5},
                        new boolean[] {true, false}, new Object[] {'a', null}, new int[0]}));
        for (double d : new double[] {0.1, 1.0 / 3, 1e-5, 1e20, 123456789.123, Double.MIN_VALUE, -Double.MAX_VALUE}) {
            assertEquals(d, Json.parse(Json.write(d)), "round trip of " + d);
        }
    }

    @Test
    void nonFiniteNumbersCannotBeWritten() {
        for (Object bad : new Object[] {Double.NaN, Double.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
                new double[] {1, Double.NaN}, new float[] {Float.NaN}}) {
            JsonException e = assertThrows(JsonException.class, () -> Json.write(bad));
            assertTrue(e.getMessage().contains("JSON has no NaN or Infinity"), e.getMessage());
        }
        JsonException e = assertThrows(JsonException.class, () -> Json.parse("[1e400]"));
        assertEquals("<input>:1:2: number 1e400 is out of range for a double", e.getMessage());
    }

    @Test
    void unsupportedTypesAreNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Json.write(map("x", new java.util.concurrent.atomic.AtomicBoolean())));
        assertTrue(e.getMessage().contains("java.util.concurrent.atomic.AtomicBoolean"), e.getMessage());
    }

    @Test
    void nonStringMapKeysUseStringValueOf() {
        Map<Object, Object> m = new LinkedHashMap<>();
        m.put(1, "a");
        m.put(null, "b");
        assertEquals("{\"1\":\"a\",\"null\":\"b\"}", Json.write(m));
    }

    private static String nested(int depth, char open, char close, String inner) {
        return String.valueOf(open).repeat(depth) + inner + String.valueOf(close).repeat(depth);
    }

    @Test
    void nestingUpToTheLimitParses() {
        Object v = Json.parse(nested(Json.MAX_DEPTH, '[', ']', "1"));
        for (int i = 0; i < Json.MAX_DEPTH; i++) v = Json.asArray(v, "level").getFirst();
        assertEquals(1L, v);
        String objects = "{\"a\":".repeat(Json.MAX_DEPTH) + "1" + "}".repeat(Json.MAX_DEPTH);
        Object parsed = Json.parse(objects);
        assertEquals(objects, Json.write(parsed), "and writes back");
    }

    @Test
    void nestingBeyondTheLimitFailsCleanly() {
        JsonException e = assertThrows(JsonException.class,
                () -> Json.parse(nested(Json.MAX_DEPTH + 1, '[', ']', ""), "deep.json"));
        assertEquals("deep.json:1:513: nesting deeper than 512 levels is not supported", e.getMessage());
        // Far deeper input must fail the same way, not with StackOverflowError.
        assertThrows(JsonException.class, () -> Json.parse("[{\"a\":".repeat(1_000_000)));
    }

    @Test
    void writingACycleFailsCleanly() {
        List<Object> cycle = new ArrayList<>();
        cycle.add(cycle);
        JsonException e = assertThrows(JsonException.class, () -> Json.write(cycle));
        assertTrue(e.getMessage().contains("deeper than 512"), e.getMessage());
    }

    @Test
    void errorsNameSourceLineAndColumn() {
        String text = "{\n  \"vocab\": {},\n  \"model\": 12345x\n}";
        JsonException e = assertThrows(JsonException.class, () -> Json.parse(text, "tokenizer.json"));
        assertEquals("tokenizer.json:3:17: expected ',' or '}' but found 'x'", e.getMessage());

        e = assertThrows(JsonException.class, () -> Json.parse("[1,\r\n2,\r\n  x]"));
        assertEquals("<input>:3:3: expected a JSON value but found 'x'", e.getMessage(), "CRLF is one line break");

        e = assertThrows(JsonException.class, () -> Json.parse("[\"\uD83D\uDE00\", y]", null));
        assertEquals("<input>:1:7: expected a JSON value but found 'y'", e.getMessage(), "columns count code points");

        e = assertThrows(JsonException.class, () -> Json.parse("{\"a\":\n", "config.json"));
        assertEquals("config.json:2:1: expected a JSON value but found end of input", e.getMessage());

        e = assertThrows(JsonException.class, () -> Json.parse("[\"abc\n\"]"));
        assertEquals("<input>:1:6: control character U+000A must be escaped in a string", e.getMessage());
    }

    static Stream<Arguments> malformed() {
        return Stream.of(
                Arguments.of("", "1:1: expected a JSON value but found end of input"),
                Arguments.of("   ", "1:4: expected a JSON value but found end of input"),
                Arguments.of("[1,]", "1:4: expected a JSON value but found ']'"),
                Arguments.of("{\"a\":1,}", "1:8: expected a string key but found '}'"),
                Arguments.of("{a:1}", "1:2: expected a string key or '}' but found 'a'"),
                Arguments.of("{\"a\" 1}", "1:6: expected ':' but found '1'"),
                Arguments.of("[1 2]", "1:4: expected ',' or ']' but found '2'"),
                Arguments.of("[1", "1:3: expected ',' or ']' but found end of input"),
                Arguments.of("1 2", "1:3: expected end of input but found '2'"),
                Arguments.of("01", "1:1: leading zeros are not allowed"),
                Arguments.of("-012", "1:1: leading zeros are not allowed"),
                Arguments.of("1.", "1:3: expected a digit after '.' but found end of input"),
                Arguments.of(".5", "1:1: expected a JSON value but found '.'"),
                Arguments.of("1e", "1:3: expected a digit in the exponent but found end of input"),
                Arguments.of("1e+", "1:4: expected a digit in the exponent but found end of input"),
                Arguments.of("-", "1:2: expected a digit but found end of input"),
                Arguments.of("+1", "1:1: expected a JSON value but found '+'"),
                Arguments.of("0x10", "1:2: expected end of input but found 'x'"),
                Arguments.of("NaN", "1:1: expected a JSON value but found 'N'"),
                Arguments.of("Infinity", "1:1: expected a JSON value but found 'I'"),
                Arguments.of("-Infinity", "1:2: expected a digit but found 'I'"),
                Arguments.of("tru", "1:1: expected 'true' but found 't'"),
                Arguments.of("nul", "1:1: expected 'null' but found 'n'"),
                Arguments.of("True", "1:1: expected a JSON value but found 'T'"),
                Arguments.of("'a'", "1:1: expected a JSON value but found '''"),
                Arguments.of("\"abc", "1:1: unterminated string"),
                Arguments.of("\"ab\\", "1:1: unterminated string"),
                Arguments.of("\"a\tb\"", "1:3: control character U+0009 must be escaped in a string"),
                Arguments.of("\"\\x\"", "1:2: invalid escape '\\x'"),
                Arguments.of("\"\\u12g4\"", "1:6: expected a hex digit but found 'g'"),
                Arguments.of("\"\\u12\"", "1:6: expected a hex digit but found '\"'"),
                Arguments.of("\"\\u\u0661\u0661\u0661\u0661\"", "1:4: expected a hex digit but found '\u0661'"),
                Arguments.of("\u00a01", "1:1: expected a JSON value but found U+00A0"),
                Arguments.of("// comment\n1", "1:1: expected a JSON value but found '/'"),
                Arguments.of("[1]]", "1:4: expected end of input but found ']'"));
    }

    @ParameterizedTest
    @MethodSource("malformed")
    void rejectsMalformedInput(String text, String expected) {
        JsonException e = assertThrows(JsonException.class, () -> Json.parse(text));
        assertEquals("<input>:" + expected, e.getMessage());
    }

    @Test
    void typedAccessors() {
        Map<String, Object> config = Json.asObject(Json.parse(
                "{\"max_length\": 512, \"lr\": 0.5, \"name\": \"bert\", \"lower\": true, \"ids\": [1],"
                        + " \"as_float\": 512.0, \"half\": 1.5, \"huge\": 1e30}"), "config");
        assertEquals(512L, Json.asLong(config.get("max_length"), "max_length"));
        assertEquals(512L, Json.asLong(config.get("as_float"), "as_float"), "integral doubles are accepted");
        assertEquals(512.0, Json.asDouble(config.get("max_length"), "max_length"));
        assertEquals(0.5, Json.asDouble(config.get("lr"), "lr"));
        assertEquals("bert", Json.asString(config.get("name"), "name"));
        assertTrue(Json.asBoolean(config.get("lower"), "lower"));
        assertEquals(List.of(1L), Json.asArray(config.get("ids"), "ids"));

        assertMessage("expected a number for max_length but found a string", () -> Json.asDouble("512", "max_length"));
        assertMessage("expected an integer for half but found 1.5", () -> Json.asLong(config.get("half"), "half"));
        assertMessage("expected an integer for huge but found 1.0E30", () -> Json.asLong(config.get("huge"), "huge"));
        assertMessage("expected an integer for x but found null", () -> Json.asLong(null, "x"));
        assertMessage("expected an object for config but found an array", () -> Json.asObject(List.of(), "config"));
        assertMessage("expected an array for ids but found an object", () -> Json.asArray(Map.of(), "ids"));
        assertMessage("expected a string for name but found a number", () -> Json.asString(1L, "name"));
        assertMessage("expected a boolean for lower but found a string", () -> Json.asBoolean("true", "lower"));
        assertMessage("expected a string for name but found a boolean", () -> Json.asString(true, "name"));
    }

    private static void assertMessage(String expected, org.junit.jupiter.api.function.Executable call) {
        assertEquals(expected, assertThrows(JsonException.class, call).getMessage());
    }

    @Test
    void largeVocabularyParsesAndRoundTrips() {
        // Shaped like a WordPiece tokenizer.json (about 700 KB), mostly the vocab object.
        StringBuilder sb = new StringBuilder("{\"version\": \"1.0\", \"model\": {\"type\": \"WordPiece\", \"vocab\": {");
        for (int i = 0; i < 30_000; i++) {
            if (i > 0) sb.append(", ");
            sb.append("\"##tok").append(i).append(i % 100 == 0 ? "\\u00e9\\\"" : "").append("\": ").append(i);
        }
        String text = sb.append("}}}").toString();
        Map<String, Object> model = Json.asObject(Json.asObject(Json.parse(text, "big.json"), "root").get("model"), "model");
        Map<String, Object> vocab = Json.asObject(model.get("vocab"), "vocab");
        assertEquals(30_000, vocab.size());
        assertEquals(100L, vocab.get("##tok100é\""));
        assertEquals(29_999L, vocab.get("##tok29999"));
        assertEquals(Json.parse(text), Json.parse(Json.writePretty(Json.parse(text))));
    }
}
