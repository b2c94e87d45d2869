package dev.bertj.tests;

import dev.bertj.io.AtomicFiles;
import dev.bertj.io.Json;
import dev.bertj.io.Npy;
import dev.bertj.io.SafeTensors;
import dev.bertj.model.BertClassifier;
import dev.bertj.model.BertConfig;
import dev.bertj.model.BertForSequenceClassification;
import dev.bertj.model.BertModel;
import dev.bertj.model.CustomHeadConfig;
import dev.bertj.model.ClassifierOutput;
import dev.bertj.tensor.Tensor;
import dev.bertj.tokenizer.BertTokenizer;
import dev.bertj.tokenizer.Batch;
import dev.bertj.train.Checkpoint;
import dev.bertj.train.Checkpoint.HeadKind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Checkpoints of both heads on the tiny BERT fixtures: saved and loaded back with bit-identical
 * weights and logits; HF's exact names and shapes for sequence classification; config.json and
 * tokenizer files; atomic replacement. With {@code -Dbertj.checkpoint.export=DIR} the seqcls and custom
 * checkpoints and their logits are also written to DIR, for {@code scripts/check_hf_checkpoint.py}.
 */
class CheckpointTest {
    static final List<String> LABELS = List.of("negative", "neutral", "positive");

    @TempDir
    Path tmp;

    /** A 50-token vocabulary matching the fixtures' ids: [PAD]=0, [CLS]=2, [SEP]=3. */
    static List<String> tinyVocab() {
        List<String> t = new ArrayList<>(List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"));
        for (int i = t.size(); i < 50; i++) t.add(i % 5 == 0 ? "##s" + i : "w" + i);
        return t;
    }

    static BertTokenizer tinyTokenizer() {
        return BertTokenizer.builder().tokens(tinyVocab()).build();
    }

    /** A minimal HF tokenizer.json (WordPiece, BertNormalizer, BertPreTokenizer, BertProcessing) for {@code tokens}. */
    static Path tokenizerJson(Path file, List<String> tokens) throws IOException {
        Map<String, Object> vocab = new LinkedHashMap<>();
        for (int i = 0; i < tokens.size(); i++) vocab.put(tokens.get(i), (long) i);
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("normalizer", Map.of("type", "BertNormalizer", "lowercase", true));
        root.put("pre_tokenizer", Map.of("type", "BertPreTokenizer"));
        root.put("post_processor", Map.of("type", "BertProcessing", "cls", List.of("[CLS]", 2L), "sep", List.of("[SEP]", 3L)));
        root.put("model", Map.of("type", "WordPiece", "unk_token", "[UNK]", "vocab", vocab));
        Files.writeString(file, Json.writePretty(root));
        return file;
    }

    static BertForSequenceClassification seqcls() throws Exception {
        HeadsPyTorchParityTest.batch(); // loads the fixture paths
        BertConfig config = BertConfig.read(TinyBertPyTorchParityTest.dir.resolve("config.json")).withLabels(LABELS);
        return BertForSequenceClassification.of(config, load("seqcls.safetensors", "bert."), 3, 0);
    }

    static BertClassifier custom(String pooling) throws Exception {
        HeadsPyTorchParityTest.batch();
        BertConfig config = BertConfig.read(TinyBertPyTorchParityTest.dir.resolve("config.json"))
                .with("ff_output_dim", 16).with("n_classes", 3).with("ff_dropout", 0.1)
                .with("cls_only", pooling.equals("cls_only")).with("average_all", pooling.equals("average_all"))
                .with("pooler", pooling.equals("pooler"));
        return BertClassifier.of(BertModel.of(config, load("model.safetensors", ""), 0), load("custom_head.safetensors", ""), 0);
    }

    static Map<String, Tensor> load(String file, String strip) throws IOException {
        Map<String, Tensor> w = new LinkedHashMap<>();
        try (SafeTensors st = SafeTensors.open(TinyBertPyTorchParityTest.dir.resolve(file))) {
            for (String n : st.names()) w.put(n.startsWith(strip) ? n.substring(strip.length()) : n, st.load(n));
        }
        return w;
    }

    /** name -> shape of a safetensors file, every tensor F32. */
    static Map<String, List<Integer>> shapes(Path file) throws IOException {
        Map<String, List<Integer>> m = new TreeMap<>();
        try (SafeTensors st = SafeTensors.open(file)) {
            for (String n : st.names()) {
                assertEquals("F32", st.info(n).dtype(), n);
                m.put(n, Arrays.stream(st.info(n).shape()).boxed().toList());
            }
        }
        return m;
    }

    /** Same names, same shapes, same float bits. */
    static void assertSameParameters(Map<String, Tensor> want, Map<String, Tensor> got) {
        assertEquals(want.keySet(), got.keySet());
        for (String k : want.keySet()) {
            assertArrayEquals(want.get(k).shape(), got.get(k).shape(), k);
            assertArrayEquals(want.get(k).data(), got.get(k).data(), k + " must be bit-identical");
        }
    }

    /**
     * The saved and the loaded model give bit-identical logits and loss. bertj's Vector API kernels
     * are not bit-reproducible across JIT tiers (reduceLanes adds lanes in another order once C2
     * intrinsifies it: about 1e-7 on this model in the first few calls), so the two forwards are
     * compared pairwise until a pair runs in the same tier; a real difference never matches.
     */
    static ClassifierOutput assertSameLogits(Function<Batch, ClassifierOutput> saved, Function<Batch, ClassifierOutput> loaded, Batch b) {
        float max = Float.NaN;
        for (int attempt = 0; attempt < 200; attempt++) {
            ClassifierOutput want = saved.apply(b), got = loaded.apply(b);
            if (Arrays.equals(want.logits().data(), got.logits().data())
                    && Float.floatToIntBits(want.loss()) == Float.floatToIntBits(got.loss())) {
                return got;
            }
            max = 0;
            for (int k = 0; k < want.logits().size(); k++) max = Math.max(max, Math.abs(want.logits().data()[k] - got.logits().data()[k]));
        }
        throw new AssertionError("logits never bit-identical; last max abs diff " + max);
    }

    static Map<String, Object> json(Path file) throws IOException {
        return Json.asObject(Json.parse(Files.readString(file)), file.toString());
    }

    /** Every file under {@code dir} by relative path, with its bytes. */
    static Map<String, byte[]> snapshot(Path dir) throws IOException {
        Map<String, byte[]> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) m.put(dir.relativize(p).toString(), Files.readAllBytes(p));
        }
        return m;
    }

    static void assertSameFiles(Map<String, byte[]> want, Path dir) throws IOException {
        Map<String, byte[]> got = snapshot(dir);
        assertEquals(want.keySet(), got.keySet(), "files of " + dir);
        for (String k : want.keySet()) assertArrayEquals(want.get(k), got.get(k), k + " changed");
    }

    /** Only {@code name} in {@code parent}: no .tmp-* or .old-* left behind. */
    static void assertNoLeftovers(Path parent, String... names) throws IOException {
        try (Stream<Path> s = Files.list(parent)) {
            assertEquals(List.of(names), s.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }

    static void export(String name, Path ckpt, float[] logits, int... shape) throws IOException {
        String out = System.getProperty("bertj.checkpoint.export");
        if (out == null) return;
        Path dir = Path.of(out);
        AtomicFiles.writeDirectory(dir.resolve(name), t -> {
            for (Map.Entry<String, byte[]> e : snapshot(ckpt).entrySet()) Files.write(t.resolve(e.getKey()), e.getValue());
        });
        Npy.writeFloat32(dir.resolve(name + "_logits.npy"), logits, shape);
    }

    @Test
    void sequenceClassificationRoundTripsWithHfNamesAndConfig() throws Exception {
        Batch b = HeadsPyTorchParityTest.batch();
        BertForSequenceClassification model = seqcls();
        BertTokenizer tok = tinyTokenizer();
        Path src = tokenizerJson(tmp.resolve("tokenizer.json"), tinyVocab());
        Path ckpt = tmp.resolve("out").resolve("seqcls");
        Checkpoint.save(ckpt, model, BertTokenizer.fromPretrained(src), src);

        assertEquals(HeadKind.SEQUENCE_CLASSIFICATION, Checkpoint.headKind(ckpt));
        BertForSequenceClassification back = Checkpoint.loadSequenceClassification(ckpt);
        assertSameParameters(model.parameters(), back.parameters());
        ClassifierOutput got = assertSameLogits(model::forward, back::forward, b);
        TinyBertPyTorchParityTest.assertClose("vs PyTorch", TinyBertPyTorchParityTest.floats("seqcls_logits.npy"), got.logits(), 1e-5f);
        assertEquals("positive", back.labelName(2));

        // Exactly HF BertForSequenceClassification's state dict (the fixture is PyTorch's), F32, format pt.
        Path st = ckpt.resolve("model.safetensors");
        assertEquals(shapes(TinyBertPyTorchParityTest.dir.resolve("seqcls.safetensors")), shapes(st));
        try (SafeTensors f = SafeTensors.open(st)) {
            assertEquals(Map.of("format", "pt"), f.metadata());
        }
        Map<String, Object> config = json(ckpt.resolve("config.json"));
        assertEquals(List.of("BertForSequenceClassification"), config.get("architectures"));
        assertEquals(Map.of("0", "negative", "1", "neutral", "2", "positive"), config.get("id2label"));
        assertEquals(Map.of("negative", 0L, "neutral", 1L, "positive", 2L), config.get("label2id"));
        assertEquals(32L, config.get("hidden_size"));

        assertEquals(tinyVocab(), Files.readAllLines(ckpt.resolve("vocab.txt")));
        Map<String, Object> tc = json(ckpt.resolve("tokenizer_config.json"));
        assertEquals(true, tc.get("do_lower_case"));
        assertEquals(24L, tc.get("model_max_length"));
        assertEquals("[CLS]", tc.get("cls_token"));
        assertArrayEquals(Files.readAllBytes(src), Files.readAllBytes(ckpt.resolve("tokenizer.json")));
        BertTokenizer reread = BertTokenizer.fromPretrained(ckpt);
        assertArrayEquals(tok.encode("W7 w9s10", "w12").ids(), reread.encode("W7 w9s10", "w12").ids());
        assertNoLeftovers(tmp.resolve("out"), "seqcls");
        export("seqcls", ckpt, got.logits().data(), got.logits().shape());
    }

    @ParameterizedTest
    @ValueSource(strings = {"cls_only", "average_all", "pooler"})
    void customHeadRoundTripsWithCustomConfig(String pooling) throws Exception {
        Batch b = HeadsPyTorchParityTest.batch();
        BertClassifier model = custom(pooling);
        Path ckpt = tmp.resolve("custom");
        Checkpoint.save(ckpt, model, tinyTokenizer());

        assertEquals(HeadKind.CUSTOM, Checkpoint.headKind(ckpt));
        BertClassifier back = Checkpoint.loadClassifier(ckpt);
        assertEquals(model.pooling(), back.pooling());
        assertSameParameters(model.parameters(), back.parameters());
        ClassifierOutput got = assertSameLogits(model::forward, back::forward, b);

        Map<String, List<Integer>> expected = new TreeMap<>(shapes(TinyBertPyTorchParityTest.dir.resolve("model.safetensors")));
        expected.putAll(shapes(TinyBertPyTorchParityTest.dir.resolve("custom_head.safetensors")));
        assertEquals(expected, shapes(ckpt.resolve("model.safetensors")));
        Map<String, Object> config = json(ckpt.resolve("config.json"));
        assertEquals(List.of("BertClassifier"), config.get("architectures"));
        assertEquals(16L, config.get("ff_output_dim"));
        assertEquals(3L, config.get("n_classes"));
        assertEquals(0.1, config.get("ff_dropout"));
        for (String flag : List.of("cls_only", "average_all", "pooler")) assertEquals(flag.equals(pooling), config.get(flag), flag);
        assertEquals(Map.of("0", "LABEL_0", "1", "LABEL_1", "2", "LABEL_2"), config.get("id2label"));
        assertEquals(Map.of("LABEL_0", 0L, "LABEL_1", 1L, "LABEL_2", 2L), config.get("label2id"));
        assertFalse(Files.exists(ckpt.resolve("tokenizer.json")), "no tokenizer.json when the source had none");
        assertTrue(Files.isRegularFile(ckpt.resolve("vocab.txt")) && Files.isRegularFile(ckpt.resolve("tokenizer_config.json")));
        export("custom_" + pooling, ckpt, got.logits().data(), got.logits().shape());
    }

    @Test
    void headKindAndStrictLoading() throws Exception {
        HeadsPyTorchParityTest.batch();
        assertEquals(HeadKind.NONE, Checkpoint.headKind(TinyBertPyTorchParityTest.dir)); // architectures ["BertModel"]
        Path s = tmp.resolve("s"), c = tmp.resolve("c");
        Checkpoint.save(s, seqcls(), tinyTokenizer());
        Checkpoint.save(c, custom("pooler"), tinyTokenizer());
        assertThrows(IllegalArgumentException.class, () -> Checkpoint.loadClassifier(s));
        assertThrows(IllegalArgumentException.class, () -> Checkpoint.loadSequenceClassification(c));
        assertThrows(IllegalArgumentException.class, () -> Checkpoint.loadSequenceClassification(TinyBertPyTorchParityTest.dir));

        // A seqcls config over encoder-only weights would get a random classifier: refused.
        Path partial = tmp.resolve("partial");
        Files.createDirectories(partial);
        Files.copy(s.resolve("config.json"), partial.resolve("config.json"));
        Files.copy(TinyBertPyTorchParityTest.dir.resolve("model.safetensors"), partial.resolve("model.safetensors"));
        String msg = assertThrows(IllegalArgumentException.class, () -> Checkpoint.loadSequenceClassification(partial)).getMessage();
        assertTrue(msg.contains("classifier.weight"), msg);
    }

    @Test
    void newHeadOnEncoderOnlyDirectoryIsSeeded() throws Exception {
        Batch b = HeadsPyTorchParityTest.batch();
        CustomHeadConfig head = new CustomHeadConfig(8, 3, 0.2, BertClassifier.Pooling.CLS_ONLY);
        BertClassifier a = BertClassifier.fromPretrained(TinyBertPyTorchParityTest.dir, head, 7);
        BertClassifier again = BertClassifier.fromPretrained(TinyBertPyTorchParityTest.dir, head, 7);
        BertClassifier other = BertClassifier.fromPretrained(TinyBertPyTorchParityTest.dir, head, 8);
        assertSameParameters(a.parameters(), again.parameters());
        assertSameLogits(a::forward, again::forward, b);
        assertFalse(Arrays.equals(a.parameters().get("classification_head.0.weight").data(),
                other.parameters().get("classification_head.0.weight").data()), "another seed, another head");
        assertEquals(BertClassifier.Pooling.CLS_ONLY, a.pooling());
        assertTrue(a.bert().newlyInitialized().isEmpty(), "the encoder comes from the checkpoint");
    }

    @Test
    void replacingACheckpointWorksAndLeavesNothingBehind() throws Exception {
        Path ckpt = tmp.resolve("ckpt");
        Checkpoint.save(ckpt, seqcls(), tinyTokenizer());
        Checkpoint.save(ckpt, custom("average_all"), tinyTokenizer());
        assertEquals(HeadKind.CUSTOM, Checkpoint.headKind(ckpt));
        assertEquals(List.of("config.json", "model.safetensors", "tokenizer_config.json", "vocab.txt"),
                List.copyOf(snapshot(ckpt).keySet()));
        assertNoLeftovers(tmp, "ckpt");
    }

    @Test
    void aSaveThatFailsMidwayLeavesThePreviousCheckpointIntact() throws Exception {
        Path ckpt = tmp.resolve("ckpt");
        Checkpoint.save(ckpt, seqcls(), tinyTokenizer());
        Map<String, byte[]> before = snapshot(ckpt);

        // Fails after model.safetensors, config.json, vocab.txt and the tokenizer files are written:
        // the copied tokenizer.json reads back with another vocabulary.
        List<String> wrong = new ArrayList<>(tinyVocab());
        wrong.set(10, "other");
        Path bad = tokenizerJson(tmp.resolve("bad-tokenizer.json"), wrong);
        String msg = assertThrows(IllegalArgumentException.class,
                () -> Checkpoint.save(ckpt, custom("pooler"), tinyTokenizer(), bad)).getMessage();
        assertTrue(msg.contains("vocabulary"), msg);
        assertSameFiles(before, ckpt);
        assertNoLeftovers(tmp, "bad-tokenizer.json", "ckpt");

        // A missing tokenizer.json fails at the copy, also after the model is written.
        assertThrows(java.nio.file.NoSuchFileException.class,
                () -> Checkpoint.save(ckpt, custom("pooler"), tinyTokenizer(), tmp.resolve("missing.json")));
        assertSameFiles(before, ckpt);

        // Any failure inside the write, here after a large file, is the same.
        assertThrows(IOException.class, () -> AtomicFiles.writeDirectory(ckpt, t -> {
            Files.write(t.resolve("model.safetensors"), new byte[1 << 20]);
            Files.writeString(t.resolve("config.json"), "{}");
            throw new IOException("disk full (simulated)");
        }));
        assertSameFiles(before, ckpt);
        assertNoLeftovers(tmp, "bad-tokenizer.json", "ckpt");
    }

    @Test
    void refusesToReplaceADirectoryThatIsNotAModel() throws Exception {
        Path dir = tmp.resolve("home");
        Files.createDirectories(dir.resolve("sub"));
        Files.writeString(dir.resolve("notes.txt"), "keep me");
        assertThrows(DirectoryNotEmptyException.class, () -> Checkpoint.save(dir, seqcls(), tinyTokenizer()));
        assertEquals("keep me", Files.readString(dir.resolve("notes.txt")));
        assertNoLeftovers(tmp, "home");
    }
}
