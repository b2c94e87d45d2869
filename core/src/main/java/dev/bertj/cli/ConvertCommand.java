package dev.bertj.cli;

import dev.bertj.api.ModelConversion;

import java.io.BufferedReader;
import java.io.PrintStream;
import java.nio.file.Path;
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
            ModelConversion.fromOnnx(Path.of(a.require("onnx")), Path.of(a.require("tokenizer")), dir, err);
        } else {
            if (a.has("tokenizer")) throw new Args.UsageException(name() + ": --tokenizer goes with --onnx; with --tf-checkpoint use --vocab");
            Boolean lower = null;
            if (a.has("do-lower-case")) {
                String v = a.get("do-lower-case");
                if (!v.equals("true") && !v.equals("false")) throw new Args.UsageException(name() + ": --do-lower-case must be true or false, got '" + v + "'");
                lower = Boolean.valueOf(v);
            }
            ModelConversion.fromTfCheckpoint(Path.of(a.get("tf-checkpoint")), a.has("vocab") ? Path.of(a.get("vocab")) : null, lower, dir, err);
        }
        out.println("wrote " + dir.resolve("model.safetensors") + ", config.json, vocab.txt, tokenizer_config.json, tokenizer.json");
        return 0;
    }
}
