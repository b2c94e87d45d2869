package dev.bertj.cli;

import dev.bertj.io.Npy;
import dev.bertj.model.BertModel;
import dev.bertj.model.BertModelOutput;
import dev.bertj.tokenizer.Batch;
import dev.bertj.tokenizer.BertTokenizer;
import dev.bertj.tokenizer.DataCollatorWithPadding;
import dev.bertj.tokenizer.EncodeOptions;
import dev.bertj.tokenizer.Encoding;

import java.io.BufferedReader;
import java.io.IOException;
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
                Usage: ./bertj forward --model DIR|default [--max-length N] [--device D] --out OUTDIR

                Reads JSON Lines on stdin (a JSON string, or {"text": ..., "text_pair": ...}), truncates
                to --max-length tokens (default: the model's maximum), pads to the longest, and writes to
                OUTDIR: input_ids.npy, attention_mask.npy, token_type_ids.npy (int64 [B, S]) and
                last_hidden_state.npy (float32 [B, S, H]); also pooler_output.npy (float32 [B, H]) when
                the model has pooler weights. Files are replaced only when every output is ready.

                --device cpu|cuda|cuda:N runs the model on that device (the GPU backend bertj-cuda; ./bertj
                adds it); --precision fp32|tf32|bf16 picks the GPU's matrix-product arithmetic (default fp32).
                """;
    }

    @Override
    public int run(String[] argv, BufferedReader in, PrintStream out, PrintStream err) throws Exception {
        Args a = new Args(name(), argv, Args.withDevice(Set.of("model", "max-length", "out")), Set.of());
        var device = a.device();
        Path dir = ModelCache.resolve(a.require("model"));
        Path outDir = Path.of(a.require("out"));
        BertTokenizer tok = BertTokenizer.fromPretrained(dir);
        BertModel model = BertModel.fromPretrained(dir).to(device);
        int maxLength = a.intValue("max-length", Math.min(tok.modelMaxLength(), model.config().maxPositionEmbeddings()), 2);
        List<Encoding> enc = encodeStdin(tok, in, EncodeOptions.builder()
                .truncation(EncodeOptions.Truncation.LONGEST_FIRST).maxLength(maxLength).build());
        if (enc.isEmpty()) throw new IllegalArgumentException("no input lines on stdin");
        Batch all = new DataCollatorWithPadding(tok).collate(enc);
        int b = all.batchSize(), s = all.seqLen(), h = model.config().hiddenSize();
        float[] hidden = new float[b * s * h], pooled = new float[b * h];
        for (int from = 0; from < b; from += CHUNK) {
            int n = Math.min(CHUNK, b - from);
            Batch chunk = new Batch(n, s, slice(all.inputIds(), from, n, s), slice(all.tokenTypeIds(), from, n, s),
                    slice(all.attentionMask(), from, n, s), null);
            BertModelOutput o = model.forward(chunk);
            System.arraycopy(o.lastHiddenState().data(), 0, hidden, from * s * h, n * s * h);
            System.arraycopy(o.poolerOutput().data(), 0, pooled, from * h, n * h);
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

    /** Reads JSON Lines texts (string or {"text","text_pair"}) and encodes them; a bad line names its number. */
    static List<Encoding> encodeStdin(BertTokenizer tok, BufferedReader in, EncodeOptions opts) throws IOException {
        List<String> texts = new ArrayList<>(), pairs = new ArrayList<>();
        boolean anyPair = false;
        String line;
        int n = 0;
        while ((line = in.readLine()) != null) {
            String[] tp = TokenizeCommand.parseLine(line, ++n);
            texts.add(tp[0]);
            pairs.add(tp[1]);
            anyPair |= tp[1] != null;
        }
        try {
            return tok.encodeBatch(texts, anyPair ? pairs : null, opts);
        } catch (IllegalArgumentException e) {
            throw TokenizeCommand.withLineNumber(e, 1);
        }
    }
}
