package dev.bertj.cli;

import dev.bertj.api.FillMask;
import dev.bertj.api.FillMaskPrediction;
import dev.bertj.io.Json;
import dev.bertj.model.BertForMaskedLM;
import dev.bertj.tokenizer.BertTokenizer;

import java.io.BufferedReader;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code ./bertj fill-mask}: HF's fill-mask pipeline. For each [MASK] of a text, the top-k tokens by
 * {@code softmax(logits)} at that position, as {@code {"score", "token", "token_str", "sequence"}}:
 * {@link FillMask} does the work.
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
        BertForMaskedLM model = BertForMaskedLM.fromPretrained(dir);
        int maxLength = a.intValue("max-length", Math.min(tok.modelMaxLength(), model.config().maxPositionEmbeddings()), 2);
        try (FillMask fill = FillMask.of(model, tok, maxLength).to(device)) {
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
                    List<List<List<FillMaskPrediction>>> answers;
                    try {
                        answers = fill.fill(texts, pairs.stream().allMatch(p -> p == null) ? null : pairs, topK);
                    } catch (FillMask.NoMaskException e) {
                        throw new IllegalArgumentException("stdin line " + (first + e.index()) + ": the text" + e.getMessage().substring(e.getMessage().indexOf(" has no ")), e);
                    } catch (IllegalArgumentException e) {
                        throw TokenizeCommand.withLineNumber(e, first);
                    }
                    for (List<List<FillMaskPrediction>> perMask : answers) {
                        out.append(Json.write(perMask.size() == 1 ? json(perMask.getFirst()) : perMask.stream().map(FillMaskCommand::json).toList()))
                                .append('\n');
                    }
                    texts.clear();
                    pairs.clear();
                }
                if (line == null) break;
            }
        }
        out.flush();
        return 0;
    }

    /** The top {@code topK} predictions for the one mask of {@code text}, as {@link #run} prints them. */
    static List<Object> fill(BertForMaskedLM model, BertTokenizer tok, String text, int topK) {
        // Not closed: the caller owns the model.
        return json(FillMask.of(model, tok).fill(text, topK).getFirst());
    }

    /** One mask's predictions as HF's pipeline prints them. */
    private static List<Object> json(List<FillMaskPrediction> predictions) {
        List<Object> out = new ArrayList<>();
        for (FillMaskPrediction p : predictions) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("score", p.score());
            m.put("token", (long) p.token());
            m.put("token_str", p.tokenStr());
            m.put("sequence", p.sequence());
            out.add(m);
        }
        return out;
    }
}
