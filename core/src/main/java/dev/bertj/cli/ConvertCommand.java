package dev.bertj.cli;

import dev.bertj.io.AtomicFiles;
import dev.bertj.io.OnnxBertConverter;
import dev.bertj.io.SafeTensorsWriter;
import dev.bertj.model.BertConfig;
import dev.bertj.tokenizer.BertTokenizer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.Set;

/**
 * {@code ./bertj convert}: an exported BERT ONNX file plus its tokenizer.json, or Google's original
 * TensorFlow BERT checkpoint, into a bertj/HF model directory.
 */
final class ConvertCommand implements Command {
    @Override
    public String name() {
        return "convert";
    }

    @Override
    public String summary() {
        return "convert a BERT ONNX export or a TensorFlow BERT checkpoint into a Hugging Face model directory";
    }

    @Override
    public String help() {
        return """
                Usage: ./bertj convert --onnx MODEL.onnx --tokenizer tokenizer.json --out DIR
                       ./bertj convert --tf-checkpoint CKPT [--vocab vocab.txt] [--do-lower-case true|false] --out DIR

                --onnx reads the ONNX protobuf (pure Java), maps each weight back to its Hugging Face
                name through the graph node that consumes it (Linear weights are stored [in, out] and
                are transposed to [out, in]), and infers the config (heads from the Reshape shapes, eps,
                GELU kind).

                --tf-checkpoint reads Google's original BERT checkpoint (TensorFlow tensor bundle, pure
                Java, every tensor's crc32c verified). CKPT is a SavedModel directory (TF Hub's, with
                variables/ and assets/), a checkpoint prefix (.../bert_model.ckpt) or a directory with
                one *.index. Names bert/... and module/bert/... both work; dense kernels are transposed
                to [out, in], LayerNorm gamma/beta become weight/bias, the MLM head becomes cls.predictions.*
                (its decoder stays tied to the word embeddings and is not written, as HF saves it).
                vocab.txt and do_lower_case come from the SavedModel's assets (vocab.txt, model.json) or
                from a vocab.txt beside the checkpoint; num_attention_heads from a bert_config.json
                there, else hidden_size / 64.

                Both write DIR/model.safetensors, config.json, vocab.txt, tokenizer_config.json and
                tokenizer.json, each atomically; progress goes to stderr.
                """;
    }

    @Override
    public int run(String[] argv, BufferedReader in, PrintStream out, PrintStream err) throws Exception {
        Args a = new Args(name(), argv, Set.of("onnx", "tokenizer", "tf-checkpoint", "vocab", "do-lower-case", "out"), Set.of());
        if (a.has("onnx") == a.has("tf-checkpoint")) {
            throw new Args.UsageException(name() + ": give either --onnx MODEL.onnx --tokenizer tokenizer.json or --tf-checkpoint CKPT (see ./bertj convert --help)");
        }
        Path dir = Path.of(a.require("out"));
        if (a.has("onnx")) {
            for (String o : new String[] {"vocab", "do-lower-case"}) {
                if (a.has(o)) throw new Args.UsageException(name() + ": --" + o + " goes with --tf-checkpoint; --onnx takes the tokenizer from --tokenizer");
            }
            convert(Path.of(a.require("onnx")), Path.of(a.require("tokenizer")), dir, err);
        } else {
            if (a.has("tokenizer")) throw new Args.UsageException(name() + ": --tokenizer goes with --onnx; with --tf-checkpoint use --vocab");
            Boolean lower = null;
            if (a.has("do-lower-case")) {
                String v = a.get("do-lower-case");
                if (!v.equals("true") && !v.equals("false")) throw new Args.UsageException(name() + ": --do-lower-case must be true or false, got '" + v + "'");
                lower = Boolean.valueOf(v);
            }
            TfCheckpointConversion.convert(Path.of(a.get("tf-checkpoint")), a.has("vocab") ? Path.of(a.get("vocab")) : null, lower, dir, err);
        }
        out.println("wrote " + dir.resolve("model.safetensors") + ", config.json, vocab.txt, tokenizer_config.json, tokenizer.json");
        return 0;
    }

    /** The conversion, shared with the default-model cache. */
    static void convert(Path onnx, Path tokenizerJson, Path dir, PrintStream progress) throws IOException {
        BertTokenizer tok = BertTokenizer.fromPretrained(tokenizerJson);
        progress.println("bertj convert: reading " + onnx);
        int[] last = {-1};
        OnnxBertConverter.Converted c = OnnxBertConverter.convert(onnx, (done, total, name) -> {
            int pct = total == 0 ? 100 : done * 100 / total;
            if (pct / 10 != last[0] / 10 || done == total) {
                progress.printf("bertj convert: %3d%% (%d/%d tensors) %s%n", pct, done, total, name);
                last[0] = pct;
            }
        });
        BertConfig config = BertConfig.of(c.config()).with("pad_token_id", (long) tok.specialTokens().padId());
        if (config.vocabSize() != tok.vocabSize()) {
            throw new IllegalArgumentException(tokenizerJson + " has " + tok.vocabSize() + " tokens but " + onnx
                    + " has a vocabulary of " + config.vocabSize());
        }
        Files.createDirectories(dir);
        SafeTensorsWriter.write(dir.resolve("model.safetensors"), c.weights(), Map.of("format", "pt"));
        AtomicFiles.writeString(dir.resolve("config.json"), config.toJson() + "\n");
        AtomicFiles.writeString(dir.resolve("vocab.txt"), String.join("\n", tok.vocab().tokens()) + "\n");
        AtomicFiles.writeString(dir.resolve("tokenizer_config.json"), tok.tokenizerConfigJson(config.maxPositionEmbeddings()));
        Path copy = dir.resolve("tokenizer.json");
        if (!copy.toAbsolutePath().equals(tokenizerJson.toAbsolutePath())) {
            Path tmp = copy.resolveSibling(".tokenizer.json.tmp");
            Files.copy(tokenizerJson, tmp, StandardCopyOption.REPLACE_EXISTING);
            Files.move(tmp, copy, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
        progress.println("bertj convert: done (" + c.weights().size() + " tensors) -> " + dir);
    }
}
