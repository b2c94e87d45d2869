package dev.bertj.fuzz;

import dev.bertj.io.Json;
import dev.bertj.io.Npy;
import dev.bertj.io.SafeTensorsWriter;
import dev.bertj.io.TinyOnnx;
import dev.bertj.model.BertConfig;
import dev.bertj.tensor.Tensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes the committed seed corpus of the fuzz targets: small valid files of each format (the
 * fuzzer mutates from there) and the malformed inputs issue 13 reported, which then run as
 * regressions in every build. Findings of a campaign are added to the same directories by hand
 * (Jazzer writes them as {@code crash-*}). Run from the core module:
 * {@code java -cp target/test-classes:target/classes dev.bertj.fuzz.SeedCorpus src/test/resources}.
 */
public final class SeedCorpus {
    private SeedCorpus() { }

    public static void main(String[] args) throws IOException {
        Path root = Path.of(args[0]).resolve("dev/bertj/fuzz");
        safetensors(dir(root, "SafeTensorsFuzzTest", "safetensors"));
        onnx(dir(root, "OnnxFuzzTest", "onnx"));
        json(dir(root, "JsonFuzzTest", "json"));
        config(dir(root, "ConfigFuzzTest", "configJson"));
        tokenizerFiles(root);
        npy(dir(root, "NpyFuzzTest", "npy"));
        email(dir(root, "EmailFuzzTest", "email"));
        cli(dir(root, "CliFuzzTest", "tokenizeJsonLines"));
    }

    static Path dir(Path root, String test, String method) throws IOException {
        return Files.createDirectories(root.resolve(test + "Inputs").resolve(method));
    }

    static void text(Path dir, String name, String content) throws IOException {
        Files.writeString(dir.resolve(name), content, StandardCharsets.UTF_8);
    }

    static void safetensors(Path dir) throws IOException {
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("embeddings.word_embeddings.weight", new Tensor(TinyOnnx.values(12, 1), 3, 4));
        t.put("pooler.dense.bias", new Tensor(TinyOnnx.values(4, 2), 4));
        SafeTensorsWriter.write(dir.resolve("f32.safetensors"), t, Map.of("format", "pt"));
        // F16, BF16 and I64 by hand: the writer writes only F32.
        String header = "{\"__metadata__\":{\"a\":\"b\"},\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[1,2],\"data_offsets\":[4,8]},\"i\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[8,16]}}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + 16).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).putShort(Float.floatToFloat16(1.5f)).putShort(Float.floatToFloat16(-2f))
                .putShort((short) (Float.floatToRawIntBits(3f) >>> 16)).putShort((short) 0x7fc0).putLong(42);
        Files.write(dir.resolve("mixed.safetensors"), b.array());
    }

    static void onnx(Path dir) throws IOException {
        Files.write(dir.resolve("tiny-bert.onnx"), TinyOnnx.bert().bytes());
        // Issue 13's reproductions, each once a bare JDK exception.
        TinyOnnx noOutputs = TinyOnnx.bert();
        noOutputs.nodes.replaceAll(n -> n.op().equals("MatMul") ? new TinyOnnx.Node(n.inputs(), List.of(), n.name(), n.op()) : n);
        Files.write(dir.resolve("issue13-matmul-without-outputs.onnx"), noOutputs.bytes());
        TinyOnnx noInputs = TinyOnnx.bert();
        noInputs.nodes.replaceAll(n -> n.op().equals("ReduceMean") ? new TinyOnnx.Node(List.of(), n.outputs(), n.name(), n.op()) : n);
        Files.write(dir.resolve("issue13-reducemean-without-inputs.onnx"), noInputs.bytes());
        TinyOnnx layer = TinyOnnx.bert();
        layer.floats("encoder.layer.99999999999.attention.self.query.bias", new float[4], 4);
        Files.write(dir.resolve("issue13-layer-99999999999.onnx"), layer.bytes());
        TinyOnnx rank1 = TinyOnnx.bert();
        rank1.floats("embeddings.word_embeddings.weight", new float[40], 40);
        Files.write(dir.resolve("issue13-rank1-word-embeddings.onnx"), rank1.bytes());
    }

    static void json(Path dir) throws IOException {
        text(dir, "config.json", BertConfig.defaults().toJson());
        text(dir, "values.json", "[0, -0, -0.0, 1e-12, 1E+400, 123456789012345678901234567890, 3.5, true, false, null,"
                + " \"\\u00e9\\ud83d\\ude00\\ud800 \\\" \\\\ \\/ \\b\\f\\n\\r\\t\", {\"a\": {\"b\": [[], {}]}, \"a\": 1}]");
        text(dir, "bom.json", "\ufeff {\"x\": \"y\"} ");
    }

    static void config(Path dir) throws IOException {
        text(dir, "bert-base.json", BertConfig.defaults().toJson());
        text(dir, "labels.json", BertConfig.defaults().withLabels(List.of("ham", "spam")).with("classifier_dropout", 0.2).toJson());
        text(dir, "issue13-layers-34243.json", "{\"num_hidden_layers\": 34243}");
        text(dir, "issue13-layers-2147483647.json", "{\"num_hidden_layers\": 2147483647}");
    }

    @SuppressWarnings("unchecked")
    static void tokenizerFiles(Path root) throws IOException {
        text(dir(root, "TokenizerFilesFuzzTest", "vocabTxt"), "vocab.txt", TokenizerFilesFuzzTest.VOCAB);
        Path json = dir(root, "TokenizerFilesFuzzTest", "tokenizerJson");
        Map<String, Object> vocab = new LinkedHashMap<>();
        String[] tokens = TokenizerFilesFuzzTest.VOCAB.split("\n");
        for (int i = 0; i < tokens.length; i++) vocab.put(tokens[i], (long) i);
        Map<String, Object> root1 = new LinkedHashMap<>();
        List<Object> added = new ArrayList<>();
        for (int i = 0; i < 5; i++) added.add(Map.of("id", (long) i, "content", tokens[i], "special", true));
        root1.put("added_tokens", added);
        root1.put("normalizer", Map.of("type", "BertNormalizer", "clean_text", true, "handle_chinese_chars", true, "lowercase", true));
        root1.put("pre_tokenizer", Map.of("type", "BertPreTokenizer"));
        root1.put("post_processor", Map.of("type", "BertProcessing", "cls", List.of("[CLS]", 2L), "sep", List.of("[SEP]", 3L)));
        root1.put("padding", Map.of("pad_token", "[PAD]"));
        root1.put("model", Map.of("type", "WordPiece", "unk_token", "[UNK]", "continuing_subword_prefix", "##",
                "max_input_chars_per_word", 100L, "vocab", vocab));
        text(json, "bert-processing.json", Json.writePretty(root1));
        Map<String, Object> template = new LinkedHashMap<>(root1);
        List<Object> single = List.of(special("[CLS]", 0), seq("A", 0), special("[SEP]", 0));
        List<Object> pair = List.of(special("[CLS]", 0), seq("A", 0), special("[SEP]", 0), seq("B", 1), special("[SEP]", 1));
        template.put("post_processor", Map.of("type", "TemplateProcessing", "single", single, "pair", pair));
        template.put("normalizer", Map.of("type", "BertNormalizer", "strip_accents", false, "lowercase", false));
        text(json, "template-processing.json", Json.writePretty(template));
        Map<String, Object> minusOne = new LinkedHashMap<>(root1);
        List<Object> bad = new ArrayList<>(added);
        bad.add(Map.of("id", -1L, "content", "x"));
        minusOne.put("added_tokens", bad);
        text(json, "issue13-added-token-id-minus-1.json", Json.writePretty(minusOne));
        for (String field : List.of("cls", "sep")) {
            Map<String, Object> empty = new LinkedHashMap<>(root1);
            Map<String, Object> pp = new LinkedHashMap<>((Map<String, Object>) root1.get("post_processor"));
            pp.put(field, List.of());
            empty.put("post_processor", pp);
            text(json, "issue13-bert-processing-empty-" + field + ".json", Json.writePretty(empty));
        }
        Path config = dir(root, "TokenizerFilesFuzzTest", "tokenizerConfig");
        text(config, "tokenizer_config.json", "{\"do_lower_case\": true, \"model_max_length\": 512, \"strip_accents\": null,"
                + " \"tokenize_chinese_chars\": true, \"unk_token\": {\"content\": \"[UNK]\"}, \"sep_token\": \"[SEP]\","
                + " \"pad_token\": \"[PAD]\", \"cls_token\": \"[CLS]\", \"mask_token\": \"[MASK]\", \"tokenizer_class\": \"BertTokenizer\"}");
        text(config, "no-limit.json", "{\"model_max_length\": 1000000000000000019884624838656, \"do_lower_case\": false}");
        text(config, "issue13-model-max-length-1e8.json", "{\"model_max_length\": 1e8}");
        text(config, "issue13-model-max-length-2147483646.json", "{\"model_max_length\": 2147483646}");
    }

    static Map<String, Object> special(String id, long type) {
        return Map.of("SpecialToken", Map.of("id", id, "type_id", type));
    }

    static Map<String, Object> seq(String id, long type) {
        return Map.of("Sequence", Map.of("id", id, "type_id", type));
    }

    static void npy(Path dir) throws IOException {
        Npy.writeFloat32(dir.resolve("f4.npy"), TinyOnnx.values(6, 3), 2, 3);
        Npy.writeInt64(dir.resolve("i8.npy"), new long[] {101, 2023, 102}, 3);
        Npy.writeFloat32(dir.resolve("scalar.npy"), new float[] {0.5f});
        // <f8 and <i4 with a version 2.0 header, by hand.
        for (String[] d : new String[][] {{"<f8", "8"}, {"<i4", "4"}}) {
            String dict = "{'descr': '" + d[0] + "', 'fortran_order': False, 'shape': (2,), }";
            int pad = 64 - (12 + dict.length() + 1) % 64;
            String header = dict + " ".repeat(pad) + "\n";
            int item = Integer.parseInt(d[1]);
            ByteBuffer b = ByteBuffer.allocate(12 + header.length() + 2 * item).order(ByteOrder.LITTLE_ENDIAN);
            b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0}).putInt(header.length());
            b.put(header.getBytes(StandardCharsets.ISO_8859_1));
            if (item == 8) b.putDouble(1.25).putDouble(-3);
            else b.putInt(7).putInt(-8);
            Files.write(dir.resolve("v2" + d[0].substring(1) + ".npy"), b.array());
        }
    }

    static void email(Path dir) throws IOException {
        text(dir, "multipart.eml", """
                From spam@example.com  Thu Aug 22 12:36:23 2002
                Subject: =?utf-8?B?SGVsbG8gd8O2cmxk?= =?iso-8859-1?Q?caf=E9_?=
                 folded
                MIME-Version: 1.0
                Content-Type: multipart/alternative; boundary="==b=="

                preamble
                --==b==
                Content-Type: text/plain; charset="utf-8"
                Content-Transfer-Encoding: quoted-printable

                caf=C3=A9 soft=
                break =3D done
                --==b==
                Content-Type: text/html
                Content-Transfer-Encoding: base64

                PGh0bWw+PGJvZHk+PHA+SGk8L3A+PC9ib2R5PjwvaHRtbD4=
                --==b==--
                epilogue
                """);
        text(dir, "html.eml", """
                Subject: WIN a FREE prize!!!
                Content-Type: text/html; charset=windows-1252

                <html><head><style>p {color: red}</style><script>alert(1)</script></head>
                <body><!-- hidden --><p>Click&nbsp;<a href="x">here</a> &amp; &#8364;5 &eacute; &#x263A;</p>
                <table><tr><td>a</td><td>b</td></tr></table><br>bye<!--#rotate></body></html>
                """);
        text(dir, "forward.eml", """
                Subject: Fwd: lunch
                Content-Type: multipart/mixed; boundary=xyz

                --xyz
                Content-Type: message/rfc822

                Subject: lunch
                Content-Type: text/plain

                Friday?
                --xyz
                Content-Type: application/octet-stream
                Content-Disposition: attachment; filename="a.bin"

                AAAA
                --xyz--
                """);
        text(dir, "undeclared-mime.eml", """
                Subject: no type
                MIME-Version: 1.0

                --BOUNDARY
                Content-Type: text/plain

                hidden part
                --BOUNDARY--
                """);
    }

    static void cli(Path dir) throws IOException {
        // The fuzzed data provider reads option choices from the end, so a trailing 0 byte means "no options".
        byte[] lines = "\"Hello, world!\"\n{\"text\": \"na\\u00efve\", \"text_pair\": \"\u4e2d\u6587\"}\n\"x\"\n"
                .getBytes(StandardCharsets.UTF_8);
        byte[] seed = java.util.Arrays.copyOf(lines, lines.length + 1);
        Files.write(dir.resolve("two-lines"), seed);
    }
}
