package dev.bertj.cli;

import dev.bertj.io.Json;
import dev.bertj.tokenizer.BertTokenizer;
import dev.bertj.tokenizer.EncodeOptions;
import dev.bertj.tokenizer.Encoding;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Reader;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code ./bertj tokenize}: JSON Lines texts in, one JSON encoding per line out. */
final class TokenizeCommand implements Command {
    /** Lines encoded together when nothing needs the whole input at once. */
    private static final int CHUNK = 4096;
    /**
     * Longest input line accepted, in chars: room for a text and a pair each at the tokenizer's
     * limit ({@link BertTokenizer#DEFAULT_MAX_INPUT_CHARS}). A longer line is refused before it is
     * held in memory whole.
     */
    static final int MAX_LINE_CHARS = 2 * BertTokenizer.DEFAULT_MAX_INPUT_CHARS;

    @Override
    public String name() {
        return "tokenize";
    }

    @Override
    public String summary() {
        return "tokenize JSON Lines from stdin exactly as Hugging Face's BERT tokenizer does";
    }

    @Override
    public String help() {
        return """
                Usage: ./bertj tokenize --tokenizer PATH [--max-length N]
                         [--truncation longest_first|only_first|only_second]
                         [--padding longest|max_length] [--pad-to-multiple-of N] [--padding-side right|left]
                         [--stride N] [--no-special-tokens]

                Reads JSON Lines on stdin: each line is a JSON string, or an object
                {"text": ..., "text_pair": ...} (text_pair optional). Writes one JSON object per line:
                  input_ids, token_type_ids, attention_mask, tokens, offsets ([start, end] Java String
                  indices into the text; (0, 0) for special tokens), special_tokens_mask, word_ids
                  (null for special tokens), and overflowing (a list of such objects) when truncation
                  with --stride cut windows off.

                Options:
                  --tokenizer PATH        a model directory, a vocab.txt, a tokenizer.json, or 'default'
                  --max-length N          truncate to N tokens (special tokens included); implies
                                          --truncation longest_first
                  --truncation S          longest_first, only_first or only_second; without --max-length
                                          the tokenizer's model_max_length is used
                  --padding S             longest (of all input lines) or max_length (--max-length, else
                                          model_max_length); all inputs are padded together
                  --pad-to-multiple-of N  round padded lengths up to a multiple of N
                  --padding-side S        right (default) or left
                  --stride N              overlap of overflowing windows (needs truncation)
                  --no-special-tokens     do not add [CLS] and [SEP]

                With no options there is no truncation and no padding, like calling the Hugging Face
                tokenizer with no arguments. A bad input line is reported on stderr with its line
                number, and the exit status is 1.
                """;
    }

    @Override
    public int run(String[] argv, BufferedReader in, PrintStream out, PrintStream err) throws Exception {
        Args a = new Args(name(), argv,
                Set.of("tokenizer", "max-length", "truncation", "padding", "pad-to-multiple-of", "padding-side", "stride"),
                Set.of("no-special-tokens"));
        BertTokenizer tok = BertTokenizer.fromPretrained(ModelCache.resolve(a.require("tokenizer")));
        EncodeOptions opts = options(a);

        List<String> texts = new ArrayList<>();
        List<String> pairs = new ArrayList<>();
        boolean anyPair = false;
        boolean whole = opts.padding() != EncodeOptions.Padding.NONE;
        int lineNo = 0;
        int firstOfChunk = 1;
        LineReader lines = new LineReader(in, MAX_LINE_CHARS);
        String line;
        while ((line = lines.next(lineNo + 1)) != null) {
            lineNo++;
            String[] tp = parseLine(line, lineNo);
            texts.add(tp[0]);
            pairs.add(tp[1]);
            anyPair |= tp[1] != null;
            if (!whole && texts.size() == CHUNK) {
                emit(tok, texts, anyPair ? pairs : null, opts, firstOfChunk, out);
                firstOfChunk = lineNo + 1;
                texts.clear();
                pairs.clear();
                anyPair = false;
            }
        }
        if (!texts.isEmpty()) emit(tok, texts, anyPair ? pairs : null, opts, firstOfChunk, out);
        out.flush();
        return 0;
    }

    static EncodeOptions options(Args a) {
        EncodeOptions.Builder b = EncodeOptions.builder();
        b.addSpecialTokens(!a.has("no-special-tokens"));
        int maxLength = a.intValue("max-length", 0, 1);
        b.maxLength(maxLength);
        if (a.has("truncation")) b.truncation(parse(() -> EncodeOptions.Truncation.parse(a.get("truncation"))));
        else if (maxLength > 0 || a.has("stride")) b.truncation(EncodeOptions.Truncation.LONGEST_FIRST);
        if (a.has("padding")) b.padding(parse(() -> EncodeOptions.Padding.parse(a.get("padding"))));
        b.padToMultipleOf(a.intValue("pad-to-multiple-of", 0, 1));
        if (a.has("padding-side")) {
            b.paddingSide(switch (a.get("padding-side")) {
                case "right" -> EncodeOptions.PaddingSide.RIGHT;
                case "left" -> EncodeOptions.PaddingSide.LEFT;
                default -> throw new Args.UsageException("tokenize: --padding-side must be right or left, got '" + a.get("padding-side") + "'");
            });
        }
        b.stride(a.intValue("stride", 0, 0));
        return b.build();
    }

    private static <T> T parse(java.util.function.Supplier<T> f) {
        try {
            return f.get();
        } catch (IllegalArgumentException e) {
            throw new Args.UsageException("tokenize: " + e.getMessage());
        }
    }

    /**
     * Lines as {@link BufferedReader#readLine} splits them (at \n, \r or \r\n), but refusing one
     * longer than a limit as soon as the limit is passed, rather than after reading it whole.
     */
    static final class LineReader {
        private final Reader in;
        private final int maxChars;
        private final char[] buf = new char[1 << 16];
        private int pos, end;
        private boolean skipLf;

        LineReader(Reader in, int maxChars) {
            this.in = in;
            this.maxChars = maxChars;
        }

        /** The next line, or null at the end of input; {@code lineNo} names it in the error. */
        String next(int lineNo) throws IOException {
            StringBuilder sb = null;
            while (true) {
                if (pos == end) {
                    end = in.read(buf, 0, buf.length);
                    pos = 0;
                    if (end <= 0) {
                        end = 0;
                        return sb == null ? null : sb.toString();
                    }
                }
                if (skipLf) {
                    skipLf = false;
                    if (buf[pos] == '\n') pos++;
                    continue;
                }
                int start = pos;
                while (pos < end && buf[pos] != '\n' && buf[pos] != '\r') pos++;
                int len = (sb == null ? 0 : sb.length()) + pos - start;
                if (len > maxChars) {
                    throw new IllegalArgumentException(String.format("stdin line %d: longer than the limit of %,d chars", lineNo, maxChars));
                }
                if (sb == null) sb = new StringBuilder(Math.max(16, pos - start));
                sb.append(buf, start, pos - start);
                if (pos < end) {
                    skipLf = buf[pos] == '\r';
                    pos++;
                    return sb.toString();
                }
            }
        }
    }

    /** A line's text and pair (or null). */
    static String[] parseLine(String line, int lineNo) {
        String where = "stdin line " + lineNo;
        if (line.isBlank()) throw new IllegalArgumentException(where + ": empty line; expected a JSON string or {\"text\": ...}");
        Object v;
        try {
            v = Json.parse(line, where);
        } catch (Json.JsonException e) {
            // The parser reports "<source>:1:COL: what"; a line of JSON Lines is always line 1.
            String msg = e.getMessage().replaceFirst("^" + java.util.regex.Pattern.quote(where) + ":1:(\\d+):",
                    where + ", column $1: not valid JSON:");
            throw new IllegalArgumentException(msg, e);
        }
        if (v instanceof String s) return new String[] {s, null};
        if (v instanceof Map<?, ?> m) {
            Object text = m.get("text");
            if (!(text instanceof String t)) {
                throw new IllegalArgumentException(where + ": \"text\" must be a string" + (text == null ? " and is missing" : ""));
            }
            Object pair = m.get("text_pair");
            if (pair != null && !(pair instanceof String)) throw new IllegalArgumentException(where + ": \"text_pair\" must be a string");
            return new String[] {t, (String) pair};
        }
        throw new IllegalArgumentException(where + ": expected a JSON string or an object with \"text\", got " + line.strip());
    }

    private static void emit(BertTokenizer tok, List<String> texts, List<String> pairs, EncodeOptions opts,
                             int firstLine, PrintStream out) {
        List<Encoding> encs;
        try {
            encs = tok.encodeBatch(texts, pairs, opts);
        } catch (IllegalArgumentException e) {
            throw withLineNumber(e, firstLine);
        }
        StringBuilder sb = new StringBuilder(1 << 12);
        for (Encoding e : encs) {
            sb.setLength(0);
            writeEncoding(e, sb);
            out.append(sb).append('\n');
        }
    }

    /** Turns the tokenizer's "batch item N: ..." into "stdin line M: ...". */
    static IllegalArgumentException withLineNumber(IllegalArgumentException e, int firstLine) {
        String msg = e.getMessage();
        if (msg != null && msg.startsWith("batch item ")) {
            int sp = msg.indexOf(':');
            int item = Integer.parseInt(msg.substring("batch item ".length(), sp));
            return new IllegalArgumentException("stdin line " + (firstLine + item) + msg.substring(sp), e);
        }
        return e;
    }

    static void writeEncoding(Encoding e, StringBuilder sb) {
        sb.append("{\"input_ids\":");
        ints(e.ids(), sb);
        sb.append(",\"token_type_ids\":");
        ints(e.typeIds(), sb);
        sb.append(",\"attention_mask\":");
        ints(e.attentionMask(), sb);
        sb.append(",\"tokens\":[");
        String[] tokens = e.tokens();
        for (int i = 0; i < tokens.length; i++) {
            if (i > 0) sb.append(',');
            Json.writeString(tokens[i], sb);
        }
        sb.append("],\"offsets\":[");
        int[] st = e.offsetStarts(), en = e.offsetEnds();
        for (int i = 0; i < st.length; i++) {
            if (i > 0) sb.append(',');
            sb.append('[').append(st[i]).append(',').append(en[i]).append(']');
        }
        sb.append("],\"special_tokens_mask\":");
        ints(e.specialTokensMask(), sb);
        sb.append(",\"word_ids\":[");
        int[] w = e.wordIds();
        for (int i = 0; i < w.length; i++) {
            if (i > 0) sb.append(',');
            if (w[i] < 0) sb.append("null");
            else sb.append(w[i]);
        }
        sb.append(']');
        if (!e.overflowing().isEmpty()) {
            sb.append(",\"overflowing\":[");
            boolean first = true;
            for (Encoding o : e.overflowing()) {
                if (!first) sb.append(',');
                first = false;
                writeEncoding(o, sb);
            }
            sb.append(']');
        }
        sb.append('}');
    }

    private static void ints(int[] a, StringBuilder sb) {
        sb.append('[');
        for (int i = 0; i < a.length; i++) {
            if (i > 0) sb.append(',');
            sb.append(a[i]);
        }
        sb.append(']');
    }
}
