package dev.bertj.cli;

import dev.bertj.tokenizer.Batch;
import dev.bertj.tokenizer.BertTokenizer;
import dev.bertj.tokenizer.DataCollatorWithPadding;
import dev.bertj.tokenizer.EncodeOptions;

import java.io.BufferedReader;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Streams JSON Lines texts from stdin as padded batches of at most {@code chunk} lines, so
 * commands that print one result per line work on inputs of any length.
 */
final class InputBatches {
    /** Receives each padded batch. */
    interface Consumer {
        void accept(Batch batch) throws IOException;
    }

    private InputBatches() { }

    static void forEach(BufferedReader in, BertTokenizer tok, EncodeOptions opts, int chunk, Consumer consumer) throws IOException {
        DataCollatorWithPadding collator = new DataCollatorWithPadding(tok);
        List<String> texts = new ArrayList<>(), pairs = new ArrayList<>();
        int lineNo = 0, first = 1;
        while (true) {
            String line = in.readLine();
            if (line != null) {
                String[] tp = TokenizeCommand.parseLine(line, ++lineNo);
                texts.add(tp[0]);
                pairs.add(tp[1]);
            }
            if (texts.size() == chunk || (line == null && !texts.isEmpty())) {
                Batch b;
                try {
                    b = collator.collate(tok.encodeBatch(texts, pairs.stream().allMatch(p -> p == null) ? null : pairs, opts));
                } catch (IllegalArgumentException e) {
                    throw TokenizeCommand.withLineNumber(e, first);
                }
                consumer.accept(b);
                first = lineNo + 1;
                texts.clear();
                pairs.clear();
            }
            if (line == null) return;
        }
    }
}
