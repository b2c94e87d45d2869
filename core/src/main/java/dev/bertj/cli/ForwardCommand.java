package dev.bertj.cli;

import dev.bertj.io.Npy;
import dev.bertj.model.BertConfig;
import dev.bertj.model.BertModel;
import dev.bertj.model.BertModelOutput;
import dev.bertj.tokenizer.Batch;
import dev.bertj.tokenizer.BertTokenizer;
import dev.bertj.tokenizer.EncodeOptions;

import java.io.BufferedReader;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** {@code ./bertj forward}: texts in, BertModel outputs as .npy files out. */
final class ForwardCommand implements Command {
    /** Rows run through the model at a time; outputs are the same as one big batch (to 1e-5). */
    private static final int CHUNK = 32;

    @Override
    public String name() {
        return "forward";
    }

    @Override
    public String summary() {
        return "run BertModel on JSON Lines texts and write the outputs as .npy";
    }

    @Override
    public String help() {
        return """
                Usage: ./bertj forward --model DIR|default|bert-base-uncased [--max-length N] [--hidden-states]
                                       [--device D] --out OUTDIR

                Reads JSON Lines on stdin, each one of
                  "a text"  or  {"text": ..., "text_pair": ...}     tokenized, truncated to --max-length
                                                                    tokens (default: the model's maximum)
                  {"input_ids": [...], "attention_mask": [...], "token_type_ids": [...]}
                                                                    pre-tokenized, as HF users feed ids;
                                                                    the last two are optional (ones, zeros)
                pads all lines to the longest with the pad id, and writes to OUTDIR: input_ids.npy,
                attention_mask.npy, token_type_ids.npy (int64 [B, S]) and last_hidden_state.npy (float32
                [B, S, H]); also pooler_output.npy (float32 [B, H]) when the model has pooler weights, and
                with --hidden-states hidden_states.npy (float32 [L+1, B, S, H]: the embeddings output and
                every layer's, HF's output_hidden_states). Files are replaced only when every output is
                ready. A line with both "text" and "input_ids", or an id outside the vocabulary, is an
                error naming the line.

                --device cpu|cuda|cuda:N runs the model on that device (the GPU backend bertj-cuda; ./bertj
                adds it); --precision fp32|tf32|bf16 picks the GPU's matrix-product arithmetic (default fp32).
                """;
    }

    @Override
    public int run(String[] argv, BufferedReader in, PrintStream out, PrintStream err) throws Exception {
        Args a = new Args(name(), argv, Args.withDevice(Set.of("model", "max-length", "out")), Set.of("hidden-states"));
        var device = a.device();
        Path dir = ModelCache.resolve(a.require("model"));
        Path outDir = Path.of(a.require("out"));
        BertTokenizer tok = BertTokenizer.fromPretrained(dir);
        BertModel model = BertModel.fromPretrained(dir).to(device);
        BertConfig c = model.config();
        int maxLength = a.intValue("max-length", Math.min(tok.modelMaxLength(), c.maxPositionEmbeddings()), 2);
        boolean withHidden = a.has("hidden-states");
        InputBatches.Limits limits = new InputBatches.Limits(Math.min(tok.vocabSize(), c.vocabSize()), c.typeVocabSize(),
                c.maxPositionEmbeddings());
        List<InputBatches.Line> lines = new ArrayList<>();
        String line;
        while ((line = in.readLine()) != null) lines.add(InputBatches.parse(line, lines.size() + 1, limits));
        if (lines.isEmpty()) throw new IllegalArgumentException("no input lines on stdin");
        Batch all = InputBatches.collate(lines, tok, EncodeOptions.builder()
                .truncation(EncodeOptions.Truncation.LONGEST_FIRST).maxLength(maxLength).build());
        int b = all.batchSize(), s = all.seqLen(), h = c.hiddenSize(), states = c.numHiddenLayers() + 1;
        float[] hidden = new float[b * s * h], pooled = new float[b * h];
        float[] everyState = withHidden ? new float[Math.multiplyExact(states, b * s * h)] : null;
        for (int from = 0; from < b; from += CHUNK) {
            int n = Math.min(CHUNK, b - from);
            BertModelOutput o = model.forward(slice(all.inputIds(), from, n, s), slice(all.tokenTypeIds(), from, n, s),
                    slice(all.attentionMask(), from, n, s), n, s, withHidden, false);
            System.arraycopy(o.lastHiddenState().data(), 0, hidden, from * s * h, n * s * h);
            System.arraycopy(o.poolerOutput().data(), 0, pooled, from * h, n * h);
            for (int l = 0; withHidden && l < states; l++) {
                System.arraycopy(o.hiddenStates().get(l).data(), 0, everyState, l * b * s * h + from * s * h, n * s * h);
            }
            err.printf("bertj forward: %d/%d texts%n", from + n, b);
        }
        Files.createDirectories(outDir);
        // Write everything under temporary names first, so a failure leaves earlier outputs intact.
        List<String> names = new ArrayList<>(List.of("input_ids.npy", "attention_mask.npy", "token_type_ids.npy", "last_hidden_state.npy"));
        Npy.writeInt64(tmp(outDir, names.get(0)), all.inputIds(), b, s);
        Npy.writeInt64(tmp(outDir, names.get(1)), all.attentionMask(), b, s);
        Npy.writeInt64(tmp(outDir, names.get(2)), all.tokenTypeIds(), b, s);
        Npy.writeFloat32(tmp(outDir, names.get(3)), hidden, b, s, h);
        if (model.hasPretrainedPooler()) {
            names.add("pooler_output.npy");
            Npy.writeFloat32(tmp(outDir, "pooler_output.npy"), pooled, b, h);
        }
        if (withHidden) {
            names.add("hidden_states.npy");
            Npy.writeFloat32(tmp(outDir, "hidden_states.npy"), everyState, states, b, s, h);
        }
        for (String f : names) Files.move(tmp(outDir, f), outDir.resolve(f), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        out.println("wrote " + String.join(", ", names) + " to " + outDir + " (batch " + b + ", seq " + s + ", hidden " + h + ")");
        return 0;
    }

    private static Path tmp(Path dir, String name) {
        return dir.resolve("." + name + ".tmp");
    }

    private static int[] slice(int[] a, int row, int rows, int s) {
        return java.util.Arrays.copyOfRange(a, row * s, (row + rows) * s);
    }
}
