package dev.bertj.cli;

import dev.bertj.model.BertModel;
import dev.bertj.model.BertModelOutput;
import dev.bertj.model.SentenceEmbeddings;
import dev.bertj.tokenizer.BertTokenizer;
import dev.bertj.tokenizer.EncodeOptions;

import java.io.BufferedReader;
import java.io.PrintStream;
import java.util.Set;

/** {@code ./bertj embed}: one sentence embedding (a JSON array) per input line. */
final class EmbedCommand implements Command {
    private static final int CHUNK = 32;

    @Override
    public String name() {
        return "embed";
    }

    @Override
    public String summary() {
        return "sentence embeddings (sentence-transformers conventions), one JSON array per line";
    }

    @Override
    public String help() {
        return """
                Usage: ./bertj embed --model DIR|default [--pooling mean|cls] [--normalize] [--max-length N] [--device D]

                Reads JSON Lines texts on stdin (a JSON string, or {"text": ..., "text_pair": ...}) and
                prints one JSON array of floats per line, as sentence-transformers computes them:
                  --pooling mean   average of the token states over real tokens (default)
                  --pooling cls    the [CLS] token's state
                  --normalize      divide by the L2 norm (all-MiniLM-L6-v2's own pipeline does)
                  --max-length N   truncate to N tokens (default: the model's maximum)
                --device cpu|cuda|cuda:N runs the model on that device (the GPU backend bertj-cuda; ./bertj
                adds it); --precision fp32|tf32|bf16 picks the GPU's matrix-product arithmetic (default fp32).
                """;
    }

    @Override
    public int run(String[] argv, BufferedReader in, PrintStream out, PrintStream err) throws Exception {
        Args a = new Args(name(), argv, Args.withDevice(Set.of("model", "pooling", "max-length")), Set.of("normalize"));
        var device = a.device();
        String pooling = a.has("pooling") ? a.get("pooling") : "mean";
        if (!pooling.equals("mean") && !pooling.equals("cls")) {
            throw new Args.UsageException("embed: --pooling must be mean or cls, got '" + pooling + "'");
        }
        var dir = ModelCache.resolve(a.require("model"));
        BertTokenizer tok = BertTokenizer.fromPretrained(dir);
        BertModel model = BertModel.fromPretrained(dir).to(device);
        int maxLength = a.intValue("max-length", Math.min(tok.modelMaxLength(), model.config().maxPositionEmbeddings()), 2);
        EncodeOptions opts = EncodeOptions.builder().truncation(EncodeOptions.Truncation.LONGEST_FIRST).maxLength(maxLength).build();
        int h = model.config().hiddenSize();
        InputBatches.forEach(in, tok, opts, CHUNK, b -> {
            BertModelOutput o = model.forward(b);
            float[] emb = pooling.equals("cls")
                    ? SentenceEmbeddings.cls(o.lastHiddenState().data(), b.batchSize(), b.seqLen(), h)
                    : SentenceEmbeddings.mean(o.lastHiddenState().data(), b.attentionMask(), b.batchSize(), b.seqLen(), h);
            if (a.has("normalize")) SentenceEmbeddings.normalize(emb, b.batchSize(), h);
            StringBuilder sb = new StringBuilder();
            for (int r = 0; r < b.batchSize(); r++) {
                sb.setLength(0);
                sb.append('[');
                for (int i = 0; i < h; i++) {
                    if (i > 0) sb.append(',');
                    sb.append(emb[r * h + i]);
                }
                out.append(sb.append(']')).append('\n');
            }
        });
        out.flush();
        return 0;
    }
}
