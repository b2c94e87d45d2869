package dev.bertj.cli;

import dev.bertj.io.Json;
import dev.bertj.tokenizer.Batch;
import dev.bertj.tokenizer.BertTokenizer;
import dev.bertj.tokenizer.DataCollatorWithPadding;
import dev.bertj.tokenizer.EncodeOptions;
import dev.bertj.tokenizer.Encoding;

import java.io.BufferedReader;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * JSON Lines input of the model commands: texts ({@code "..."} or {@code {"text", "text_pair"}}),
 * and, for {@code forward}, pre-tokenized lines {@code {"input_ids", "attention_mask",
 * "token_type_ids"}} as HF users feed a model. {@link #forEach} streams texts as padded batches
 * of at most {@code chunk} lines, so commands that print one result per line work on inputs of
 * any length.
 */
final class InputBatches {
    /** Receives each padded batch. */
    interface Consumer {
        void accept(Batch batch) throws IOException;
    }

    /**
     * One input line: a text (and optional pair) to tokenize, or the model inputs themselves.
     * Exactly one of {@code text} and {@code ids} is non-null.
     */
    record Line(int lineNo, String text, String pair, int[] ids, int[] types, int[] mask) { }

    /**
     * What pre-tokenized ids must respect.
     *
     * @param vocabSize input ids lie in [0, vocabSize)
     * @param typeVocabSize token type ids lie in [0, typeVocabSize)
     * @param maxLength at most this many ids per line (the model's positions)
     */
    record Limits(int vocabSize, int typeVocabSize, int maxLength) { }

    private InputBatches() { }

    /** Receives each chunk of texts, in input order; {@code pairs} is null when no line of the chunk has one. */
    interface TextsConsumer {
        void accept(List<String> texts, List<String> pairs) throws IOException;
    }

    /**
     * Texts only (embed, classify), in chunks of at most {@code chunk} lines: a pre-tokenized line is
     * refused with its line number, and an error about "batch item i" of a chunk names its stdin line.
     */
    static void forEachTexts(BufferedReader in, int chunk, TextsConsumer consumer) throws IOException {
        List<String> texts = new ArrayList<>(), pairs = new ArrayList<>();
        int lineNo = 0, first = 1;
        while (true) {
            String line = in.readLine();
            if (line != null) {
                Line l = parse(line, ++lineNo, null);
                texts.add(l.text());
                pairs.add(l.pair());
            }
            if (texts.size() == chunk || (line == null && !texts.isEmpty())) {
                try {
                    consumer.accept(texts, pairs.stream().allMatch(p -> p == null) ? null : pairs);
                } catch (IllegalArgumentException e) {
                    throw TokenizeCommand.withLineNumber(e, first);
                }
                first = lineNo + 1;
                texts.clear();
                pairs.clear();
            }
            if (line == null) return;
        }
    }

    /** {@link #forEachTexts}, each chunk tokenized with {@code opts} and padded into one batch. */
    static void forEach(BufferedReader in, BertTokenizer tok, EncodeOptions opts, int chunk, Consumer consumer) throws IOException {
        DataCollatorWithPadding collator = new DataCollatorWithPadding(tok);
        forEachTexts(in, chunk, (texts, pairs) -> consumer.accept(collator.collate(tok.encodeBatch(texts, pairs, opts))));
    }

    /**
     * Parses one JSON line. A line is pre-tokenized when it is an object with {@code input_ids};
     * {@code limits} null means pre-tokenized lines are not accepted here.
     */
    static Line parse(String line, int lineNo, Limits limits) {
        // Only a line that mentions input_ids can be one; the others are parsed once, as texts.
        if (line.contains("\"input_ids\"")) {
            Object v;
            try {
                v = Json.parse(line, "stdin line " + lineNo);
            } catch (Json.JsonException e) {
                v = null; // parseLine below reports it with the column
            }
            if (v instanceof Map<?, ?> m && m.containsKey("input_ids")) {
                String where = "stdin line " + lineNo;
                if (m.containsKey("text") || m.containsKey("text_pair")) {
                    throw new IllegalArgumentException(where + ": has both \"text\" and \"input_ids\"; give a text to tokenize or the ids, not both");
                }
                if (limits == null) {
                    throw new IllegalArgumentException(where + ": pre-tokenized input (\"input_ids\") is accepted by ./bertj forward;"
                            + " this command takes texts");
                }
                return ids(Json.asObject(v, where), where, lineNo, limits);
            }
        }
        String[] tp = TokenizeCommand.parseLine(line, lineNo);
        return new Line(lineNo, tp[0], tp[1], null, null, null);
    }

    private static Line ids(Map<String, Object> m, String where, int lineNo, Limits limits) {
        int[] ids = ints(m.get("input_ids"), where, "input_ids", 0, limits.vocabSize(), "the vocabulary");
        if (ids.length == 0) throw new IllegalArgumentException(where + ": \"input_ids\" is empty");
        if (ids.length > limits.maxLength()) {
            throw new IllegalArgumentException(where + ": " + ids.length + " input_ids, more than the model's " + limits.maxLength() + " positions");
        }
        int[] mask = m.get("attention_mask") == null ? filled(ids.length, 1)
                : ints(m.get("attention_mask"), where, "attention_mask", 0, 2, "0 and 1");
        int[] types = m.get("token_type_ids") == null ? new int[ids.length]
                : ints(m.get("token_type_ids"), where, "token_type_ids", 0, limits.typeVocabSize(), "the model's token types");
        for (String k : new String[] {"attention_mask", "token_type_ids"}) {
            int n = k.equals("attention_mask") ? mask.length : types.length;
            if (n != ids.length) throw new IllegalArgumentException(where + ": \"" + k + "\" has " + n + " values but \"input_ids\" has " + ids.length);
        }
        return new Line(lineNo, null, null, ids, types, mask);
    }

    private static int[] ints(Object v, String where, String key, int min, int end, String range) {
        List<Object> list = Json.asArray(v, where + ": \"" + key + "\"");
        int[] out = new int[list.size()];
        for (int i = 0; i < out.length; i++) {
            long x = Json.asLong(list.get(i), where + ": " + key + "[" + i + "]");
            if (x < min || x >= end) {
                throw new IllegalArgumentException(where + ": " + key + "[" + i + "] = " + x + " is outside " + range + " (" + min + ".." + (end - 1) + ")");
            }
            out[i] = (int) x;
        }
        return out;
    }

    private static int[] filled(int n, int v) {
        int[] a = new int[n];
        Arrays.fill(a, v);
        return a;
    }

    /**
     * Tokenizes the text lines (truncated as {@code opts} says), keeps pre-tokenized lines as given,
     * and pads all of them, in input order, to the longest with the tokenizer's pad id (token type 0,
     * attention 0), as HF's DataCollatorWithPadding does.
     */
    static Batch collate(List<Line> lines, BertTokenizer tok, EncodeOptions opts) {
        List<String> texts = new ArrayList<>(), pairs = new ArrayList<>();
        List<Integer> textLines = new ArrayList<>();
        for (Line l : lines) {
            if (l.text() == null) continue;
            texts.add(l.text());
            pairs.add(l.pair());
            textLines.add(l.lineNo());
        }
        List<Encoding> enc;
        try {
            enc = texts.isEmpty() ? List.of() : tok.encodeBatch(texts, pairs.stream().allMatch(p -> p == null) ? null : pairs, opts);
        } catch (IllegalArgumentException e) {
            throw renumber(e, textLines);
        }
        int b = lines.size(), s = 0, t = 0;
        int[][] rows = new int[b][], rowTypes = new int[b][], rowMask = new int[b][];
        for (int i = 0; i < b; i++) {
            Line l = lines.get(i);
            if (l.text() != null) {
                Encoding e = enc.get(t++);
                rows[i] = e.ids();
                rowTypes[i] = e.typeIds();
                rowMask[i] = e.attentionMask();
            } else {
                rows[i] = l.ids();
                rowTypes[i] = l.types();
                rowMask[i] = l.mask();
            }
            s = Math.max(s, rows[i].length);
        }
        int[] ids = new int[b * s], types = new int[b * s], mask = new int[b * s];
        Arrays.fill(ids, tok.specialTokens().padId());
        for (int i = 0; i < b; i++) {
            System.arraycopy(rows[i], 0, ids, i * s, rows[i].length);
            System.arraycopy(rowTypes[i], 0, types, i * s, rowTypes[i].length);
            System.arraycopy(rowMask[i], 0, mask, i * s, rowMask[i].length);
        }
        return new Batch(b, s, ids, types, mask, null);
    }

    /** The tokenizer's "batch item K: ..." names the K-th text; say which stdin line that was. */
    private static IllegalArgumentException renumber(IllegalArgumentException e, List<Integer> textLines) {
        String msg = e.getMessage();
        if (msg != null && msg.startsWith("batch item ")) {
            int sp = msg.indexOf(':');
            try {
                int item = Integer.parseInt(msg.substring("batch item ".length(), sp));
                return new IllegalArgumentException("stdin line " + textLines.get(item) + msg.substring(sp), e);
            } catch (RuntimeException ignored) {
                return e;
            }
        }
        return e;
    }
}
