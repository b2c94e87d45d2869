package dev.bertj.cli;

import dev.bertj.explain.ExplainPage;
import dev.bertj.explain.Explainer;
import dev.bertj.io.Json;
import dev.bertj.tokenizer.EncodeOptions;
import dev.bertj.tokenizer.Encoding;

import java.io.BufferedReader;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

/**
 * {@code ./bertj explain}: one input in, one self-contained page out ({@code DIR/index.html}) with
 * the tokens, attention (head view and model view), hidden states, the head's predictions, and
 * gradient x input saliency and gradient norms from bertj's own backward pass ({@link Explainer}).
 */
final class ExplainCommand implements Command {
    @Override
    public String name() {
        return "explain";
    }

    @Override
    public String summary() {
        return "one input's attention, hidden states, predictions, saliency and gradients as a page (DIR/index.html)";
    }

    @Override
    public String help() {
        return """
                Usage: ./bertj explain --model DIR|default|bert-base-uncased --out DIR [--max-length N] [--pad-to N]

                Reads one JSON Lines input on stdin: a JSON string, or {"text": ..., "text_pair": ..., "label": ...}
                ("text_pair" and "label" optional), and writes DIR/index.html, one file with its script, styles
                and data inline (no network), in the spirit of bertviz:
                  Tokens          ids, offsets into the text, word ids, segment ids, attention mask
                  Head view       one layer: lines from each token to the tokens it attends to, per head
                  Model view      every layer x head as a heat map; click one to open it in the head view
                  Hidden states   per layer, each token's state norm and cosine similarity to the last layer
                  Prediction      a classifier's label probabilities; a masked-LM model's top 5 at each [MASK],
                                  and the logit lens (each layer's hidden state there through the MLM head)
                  Saliency        gradient x input per token, of log p(label) (the given label, else the predicted
                                  one) or, for masked-LM, of the mean log p of the top prediction at the masks
                  Gradient norms  per layer and parameter group, from the same backward pass
                The data is embedded as <script type="application/json" id="bertj-data"> (fields tokens,
                attentions [layer][head][query][key], hidden_norms [layer][token], saliency, predictions, ...).
                A bare encoder (such as default) has no loss: its page has no saliency or gradients.
                  --max-length N   truncate to N tokens (default: the model's maximum)
                  --pad-to N       pad with [PAD] to N tokens (attention mask 0), to see that padding gets no attention
                """;
    }

    @Override
    public int run(String[] argv, BufferedReader in, PrintStream out, PrintStream err) throws Exception {
        Args a = new Args(name(), argv, Set.of("model", "out", "max-length", "pad-to"), Set.of());
        Path dir = ModelCache.resolve(a.require("model"));
        Path outDir = Path.of(a.require("out"));
        if (Files.exists(outDir) && !Files.isDirectory(outDir)) throw new Args.UsageException("explain: --out " + outDir + " is a file, not a directory");
        Input input = readInput(in);
        Explainer explainer = Explainer.load(dir);
        int positions = explainer.bert().config().maxPositionEmbeddings();
        int maxLength = a.intValue("max-length", Math.min(explainer.tokenizer().modelMaxLength(), positions), 2);
        if (maxLength > positions) throw new Args.UsageException("explain: --max-length " + maxLength + " is more than the model's " + positions + " positions");
        EncodeOptions.Builder o = EncodeOptions.builder().truncation(EncodeOptions.Truncation.LONGEST_FIRST).maxLength(maxLength);
        if (a.has("pad-to")) {
            int padTo = a.intValue("pad-to", 0, 2);
            if (padTo > maxLength) throw new Args.UsageException("explain: --pad-to " + padTo + " is more than --max-length " + maxLength);
            o.maxLength(padTo).padding(EncodeOptions.Padding.MAX_LENGTH);
        }
        Encoding enc;
        try {
            enc = explainer.tokenizer().encode(input.text, input.pair, o.build());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("stdin line " + input.line + ": " + e.getMessage(), e);
        }
        Map<String, Object> data;
        try {
            data = explainer.explain(input.text, input.pair, enc, input.label);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("stdin line " + input.line + ": " + e.getMessage(), e);
        }
        Path page = ExplainPage.write(outDir, data);
        out.printf("wrote %s (%d tokens, %d KB)%n", page, enc.length(), (Files.size(page) + 1023) / 1024);
        return 0;
    }

    private record Input(int line, String text, String pair, Object label) { }

    /** The one input: blank lines are skipped, a second input is refused (one page explains one input). */
    private static Input readInput(BufferedReader in) throws java.io.IOException {
        Input input = null;
        int lineNo = 0;
        for (String line; (line = in.readLine()) != null; ) {
            lineNo++;
            if (line.isBlank()) continue;
            if (input != null) {
                throw new IllegalArgumentException("stdin line " + lineNo + ": explain reads one input (line " + input.line
                        + " was it); run it once per text");
            }
            String[] tp = TokenizeCommand.parseLine(line, lineNo);
            Object label = null;
            if (Json.parse(line) instanceof Map<?, ?> m) {
                label = m.get("label");
                if (label != null && !(label instanceof String) && !(label instanceof Number)) {
                    throw new IllegalArgumentException("stdin line " + lineNo + ": \"label\" must be a label name or id, got " + Json.write(label));
                }
            }
            input = new Input(lineNo, tp[0], tp[1], label);
        }
        if (input == null) throw new IllegalArgumentException("stdin: no input; give one JSON line, e.g. {\"text\": \"...\", \"label\": \"spam\"}");
        return input;
    }
}
