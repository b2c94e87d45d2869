package dev.bertj.cli;

import dev.bertj.api.Pooling;
import dev.bertj.api.SentenceEmbedder;
import dev.bertj.model.BertConfig;
import dev.bertj.tokenizer.BertTokenizer;

import java.io.BufferedReader;
import java.io.PrintStream;
import java.util.Set;

/** {@code ./bertj embed}: one sentence embedding (a JSON array) per input line, through {@link SentenceEmbedder}. */
final class EmbedCommand implements Command {
    /** Lines per call: enough for length-sorted batches to pay, few enough to stream. */
    private static final int CHUNK = 256;

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
                In Java: dev.bertj.api.SentenceEmbedder, which by default follows the model's
                sentence-transformers files instead.
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
        int modelMax = Math.min(BertTokenizer.fromPretrained(dir).modelMaxLength(), BertConfig.read(dir.resolve("config.json")).maxPositionEmbeddings());
        int maxLength = a.intValue("max-length", modelMax, 2);
        try (SentenceEmbedder embedder = SentenceEmbedder.builder(dir).pooling(pooling.equals("cls") ? Pooling.CLS : Pooling.MEAN)
                .normalize(a.has("normalize")).maxLength(maxLength).device(device).build()) {
            StringBuilder sb = new StringBuilder();
            InputBatches.forEachTexts(in, CHUNK, (texts, pairs) -> {
                float[][] vectors = embedder.embed(texts, pairs);
                for (float[] v : vectors) {
                    sb.setLength(0);
                    sb.append('[');
                    for (int i = 0; i < v.length; i++) {
                        if (i > 0) sb.append(',');
                        sb.append(v[i]);
                    }
                    out.append(sb.append(']')).append('\n');
                }
            });
        }
        out.flush();
        return 0;
    }
}
