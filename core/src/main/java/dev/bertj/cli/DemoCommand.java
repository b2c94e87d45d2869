package dev.bertj.cli;

import dev.bertj.tokenizer.Batch;
import dev.bertj.tokenizer.BertTokenizer;
import dev.bertj.tokenizer.DataCollatorWithPadding;
import dev.bertj.tokenizer.EncodeOptions;
import dev.bertj.tokenizer.Encoding;

import java.io.BufferedReader;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * {@code ./bertj demo}: the notebook's walkthrough on the default model. For now its tokenizer
 * half: vocab size, ids, tokens, type ids, masks, special tokens and a dynamically padded batch.
 */
final class DemoCommand implements Command {
    static final List<String> TEXTS = List.of("Tokenization is the process of splitting sequence to tokens", "I like BUAN6342");
    static final int[] LABELS = {0, 1};

    @Override
    public String name() {
        return "demo";
    }

    @Override
    public String summary() {
        return "the notebook's BERT walkthrough on the default model (tokenizer part)";
    }

    @Override
    public String help() {
        return """
                Usage: ./bertj demo [--model DIR|default]

                Reproduces the notebook "Understanding Inputs/Outputs for BERT" on the default model
                (all-MiniLM-L6-v2, whose tokenizer is bert-base-uncased's): the vocab size, both
                sentences' input_ids, tokens, token_type_ids and attention_mask, convert_tokens_to_string,
                the special tokens with their ids, and the batch padded by DataCollatorWithPadding.
                """;
    }

    @Override
    public int run(String[] argv, BufferedReader in, PrintStream out, PrintStream err) throws Exception {
        Args a = new Args(name(), argv, Set.of("model"), Set.of());
        String model = a.has("model") ? a.get("model") : ModelCache.DEFAULT;
        BertTokenizer tok = BertTokenizer.fromPretrained(ModelCache.resolve(model));

        out.println("== Tokenizer (" + model + ") ==");
        out.println("Pretrained tokenizer vocab size " + tok.vocabSize());
        out.println();
        EncodeOptions truncate = EncodeOptions.builder().truncation(EncodeOptions.Truncation.LONGEST_FIRST).build();
        List<Encoding> encoded = new ArrayList<>();
        for (String text : TEXTS) {
            Encoding e = tok.encode(text, null, truncate);
            encoded.add(e);
            out.println("text:           " + text);
            out.println("input_ids:      " + Arrays.toString(e.ids()));
            out.println("token_type_ids: " + Arrays.toString(e.typeIds()));
            out.println("attention_mask: " + Arrays.toString(e.attentionMask()));
            out.println("tokens:         " + pyList(Arrays.asList(tok.convertIdsToTokens(e.ids()))));
            out.println("convert_tokens_to_string: '" + tok.convertTokensToString(Arrays.asList(e.tokens())) + "'");
            out.println();
        }
        out.println("special tokens: " + pyList(tok.specialTokens().all()) + " " + tok.specialTokens().allIds());
        out.println();

        List<DataCollatorWithPadding.Example> examples = new ArrayList<>();
        for (int i = 0; i < encoded.size(); i++) examples.add(new DataCollatorWithPadding.Example(encoded.get(i), LABELS[i]));
        Batch batch = new DataCollatorWithPadding(tok).collateExamples(examples);
        out.println("== DataCollatorWithPadding: batch [" + batch.batchSize() + ", " + batch.seqLen() + "] ==");
        out.println("input_ids:");
        for (int i = 0; i < batch.batchSize(); i++) out.println("  " + Arrays.toString(batch.inputIds(i)));
        out.println("token_type_ids:");
        for (int i = 0; i < batch.batchSize(); i++) out.println("  " + Arrays.toString(batch.tokenTypeIds(i)));
        out.println("attention_mask:");
        for (int i = 0; i < batch.batchSize(); i++) out.println("  " + Arrays.toString(batch.attentionMask(i)));
        out.println("labels: " + Arrays.toString(batch.labels()));
        return 0;
    }

    private static String pyList(List<String> items) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < items.size(); i++) {
            if (i > 0) sb.append(", ");
            sb.append('\'').append(items.get(i)).append('\'');
        }
        return sb.append(']').toString();
    }
}
