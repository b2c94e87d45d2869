package dev.bertj.cli;

import dev.bertj.io.Json;
import dev.bertj.model.BertForMaskedLM;
import dev.bertj.model.MaskedLmOutput;
import dev.bertj.tokenizer.Batch;
import dev.bertj.tokenizer.BertTokenizer;
import dev.bertj.tokenizer.DataCollatorWithPadding;
import dev.bertj.tokenizer.EncodeOptions;
import dev.bertj.tokenizer.Encoding;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code ./bertj fill-mask}: HF's fill-mask pipeline. For each [MASK] of a text, the top-k tokens by
 * {@code softmax(logits)} at that position, as {@code {"score", "token", "token_str", "sequence"}}.
 */
final class FillMaskCommand implements Command {
    private static final int CHUNK = 16;

    @Override
    public String name() {
        return "fill-mask";
    }

    @Override
    public String summary() {
        return "predict the [MASK] tokens of each text with the masked-LM head (HF's fill-mask pipeline)";
    }

    @Override
    public String help() {
        return """
                Usage: ./bertj fill-mask --model DIR|bert-base-uncased [--top-k K] [--max-length N] [--device D]

                Reads JSON Lines texts containing [MASK] on stdin (a JSON string, or {"text": ..., "text_pair": ...})
                and prints one JSON array per line in the shape of HF's fill-mask pipeline, best first:
                  [{"score": 0.41, "token": 3000, "token_str": "paris", "sequence": "the capital of france is paris."}, ...]
                A text with several masks gives one such array per mask, in order (an array of arrays), and
                there, as in HF, "sequence" keeps the special tokens so the other masks stay visible.
                  --top-k K        predictions per mask (default 5)
                  --max-length N   truncate to N tokens (default: the model's maximum)
                The model needs the masked-LM head (cls.predictions.*, as bert-base-uncased has); a model
                without one gets a newly initialised head, with HF's warning, and predicts noise.
                """;
    }

    @Override
    public int run(String[] argv, BufferedReader in, PrintStream out, PrintStream err) throws Exception {
        Args a = new Args(name(), argv, Args.withDevice(Set.of("model", "top-k", "max-length")), Set.of());
        var device = a.device();
        var dir = ModelCache.resolve(a.require("model"));
        int topK = a.intValue("top-k", 5, 1);
        BertTokenizer tok = BertTokenizer.fromPretrained(dir);
        BertForMaskedLM model = BertForMaskedLM.fromPretrained(dir).to(device);
        topK = Math.min(topK, model.vocabSize());
        int maxLength = a.intValue("max-length", Math.min(tok.modelMaxLength(), model.config().maxPositionEmbeddings()), 2);
        EncodeOptions opts = EncodeOptions.builder().truncation(EncodeOptions.Truncation.LONGEST_FIRST).maxLength(maxLength).build();
        int maskId = tok.tokenToId(tok.specialTokens().mask());
        DataCollatorWithPadding collator = new DataCollatorWithPadding(tok);
        List<String> texts = new ArrayList<>(), pairs = new ArrayList<>();
        int lineNo = 0;
        while (true) {
            String line = in.readLine();
            if (line != null) {
                String[] tp = TokenizeCommand.parseLine(line, ++lineNo);
                texts.add(tp[0]);
                pairs.add(tp[1]);
            }
            if (texts.size() == CHUNK || (line == null && !texts.isEmpty())) {
                int first = lineNo - texts.size() + 1;
                emit(model, tok, collator, texts, pairs, opts, maskId, topK, first, out);
                texts.clear();
                pairs.clear();
            }
            if (line == null) break;
        }
        out.flush();
        return 0;
    }

    private static void emit(BertForMaskedLM model, BertTokenizer tok, DataCollatorWithPadding collator, List<String> texts, List<String> pairs,
                             EncodeOptions opts, int maskId, int topK, int firstLine, PrintStream out) throws IOException {
        List<Encoding> encs;
        try {
            encs = tok.encodeBatch(texts, pairs.stream().allMatch(p -> p == null) ? null : pairs, opts);
        } catch (IllegalArgumentException e) {
            throw TokenizeCommand.withLineNumber(e, firstLine);
        }
        Batch b = collator.collate(encs);
        int s = b.seqLen();
        List<Integer> positions = new ArrayList<>();
        int[] masksPerRow = new int[b.batchSize()];
        for (int r = 0; r < b.batchSize(); r++) {
            for (int t = 0; t < s; t++) {
                if (b.attentionMask()[r * s + t] == 1 && b.inputIds()[r * s + t] == maskId) {
                    positions.add(r * s + t);
                    masksPerRow[r]++;
                }
            }
            if (masksPerRow[r] == 0) {
                throw new IllegalArgumentException("stdin line " + (firstLine + r) + ": the text has no " + tok.specialTokens().mask()
                        + " token to fill" + (encs.get(r).length() >= opts.maxLength() ? " (it may have been truncated at " + opts.maxLength() + " tokens)" : ""));
            }
        }
        MaskedLmOutput o = model.logitsAt(b, positions.stream().mapToInt(Integer::intValue).toArray());
        float[] logits = o.logits().data();
        int v = model.vocabSize(), at = 0;
        for (int r = 0; r < b.batchSize(); r++) {
            List<Object> perMask = new ArrayList<>();
            int[] ids = Arrays.copyOfRange(b.inputIds(), r * s, (r + 1) * s);
            boolean single = masksPerRow[r] == 1;
            for (int k = 0; k < masksPerRow[r]; k++, at++) {
                perMask.add(predictions(tok, ids, b.attentionMask(), r * s, o.positions()[at] - r * s, logits, at * v, v, topK, single));
            }
            out.append(Json.write(single ? perMask.get(0) : perMask)).append('\n');
        }
    }

    /** The top {@code topK} predictions for the one mask of {@code text}, as {@link #run} prints them. */
    static List<Object> fill(BertForMaskedLM model, BertTokenizer tok, String text, int topK) {
        Batch b = new DataCollatorWithPadding(tok).collate(List.of(tok.encode(text)));
        int maskId = tok.tokenToId(tok.specialTokens().mask()), at = -1;
        for (int t = 0; t < b.seqLen(); t++) if (b.inputIds()[t] == maskId) at = t;
        if (at < 0) throw new IllegalArgumentException("'" + text + "' has no " + tok.specialTokens().mask() + " token to fill");
        float[] logits = model.logitsAt(b, new int[] {at}).logits().data();
        return predictions(tok, b.inputIds(), b.attentionMask(), 0, at, logits, 0, model.vocabSize(), topK, true);
    }

    /** HF's postprocess for one mask: softmax over the vocabulary, the top k, each with the text it would give. */
    private static List<Object> predictions(BertTokenizer tok, int[] rowIds, int[] mask, int rowStart, int at, float[] logits, int off, int v,
                                            int topK, boolean single) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < v; i++) max = Math.max(max, logits[off + i]);
        double sum = 0;
        for (int i = 0; i < v; i++) sum += Math.exp(logits[off + i] - max);
        Integer[] order = new Integer[v];
        for (int i = 0; i < v; i++) order[i] = i;
        // Highest logit first; ties by id, as torch.topk returns the lower index first on CPU.
        Arrays.sort(order, (x, y) -> logits[off + x] != logits[off + y] ? Float.compare(logits[off + y], logits[off + x]) : Integer.compare(x, y));
        List<Object> out = new ArrayList<>();
        for (int k = 0; k < topK; k++) {
            int id = order[k];
            int[] ids = rowIds.clone();
            ids[at] = id;
            // HF drops padding, then decodes; with several masks it keeps special tokens so the other masks show.
            int real = 0;
            for (int t = 0; t < ids.length; t++) if (mask[rowStart + t] == 1) ids[real++] = ids[t];
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("score", Math.exp(logits[off + id] - max) / sum);
            p.put("token", (long) id);
            p.put("token_str", tok.decode(id));
            p.put("sequence", tok.decode(Arrays.copyOf(ids, real), single));
            out.add(p);
        }
        return out;
    }
}
