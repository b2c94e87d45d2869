package dev.bertj.tests;

import dev.bertj.io.Json;
import dev.bertj.io.Npy;
import dev.bertj.io.SafeTensors;
import dev.bertj.tokenizer.BertTokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code convert --tf-checkpoint} on a TF checkpoint written by an independent encoder
 * (scripts/make_tf_checkpoint_fixture.py, numpy) from the tiny-bert PyTorch fixture: the converted
 * weights equal PyTorch's exactly, and {@code forward} on pre-tokenized ids reproduces PyTorch's
 * hidden states (fixtures/tiny-bert, scripts/make_fixtures.py) to 1e-5.
 */
class TfCheckpointConvertTest {
    static Path tf, tiny, model;

    @BeforeAll
    static void convert() throws Exception {
        tf = Path.of(TfCheckpointConvertTest.class.getResource("/fixtures/tiny-bert-tf/bert_config.json").toURI()).getParent();
        tiny = Path.of(TfCheckpointConvertTest.class.getResource("/fixtures/tiny-bert/config.json").toURI()).getParent();
        model = Files.createTempDirectory("bertj-tf").resolve("model");
        TokenizeCommandTest.Result r = TokenizeCommandTest.run("", "convert", "--tf-checkpoint", tf.toString(), "--out", model.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.err().contains("100% (44/44 tensors)"), "progress is shown: " + r.err());
        assertTrue(r.err().contains("global_step") && r.err().contains("adam_m"), "skipped variables are listed: " + r.err());
    }

    @Test
    void weightsAreThePyTorchOnesExactlyAndTheDecoderIsNotWritten() throws Exception {
        try (SafeTensors got = SafeTensors.open(model.resolve("model.safetensors"));
             SafeTensors want = SafeTensors.open(tiny.resolve("model.safetensors"))) {
            TreeSet<String> expected = new TreeSet<>();
            for (String n : want.names()) {
                expected.add("bert." + n);
                assertArrayEquals(want.info(n).shape(), got.info("bert." + n).shape(), n);
                assertArrayEquals(want.load(n).data(), got.load("bert." + n).data(), n);
            }
            for (String n : List.of("cls.predictions.transform.dense.weight", "cls.predictions.transform.dense.bias",
                    "cls.predictions.transform.LayerNorm.weight", "cls.predictions.transform.LayerNorm.bias", "cls.predictions.bias")) {
                expected.add(n);
                Npy.Array head = Npy.readFloat32(tf.resolve("cls_head").resolve(n + ".npy"));
                assertArrayEquals(head.shape(), got.info(n).shape(), n);
                assertArrayEquals(head.floats(), got.load(n).data(), n);
            }
            // HF's save_pretrained drops tied tensors from safetensors (cls.predictions.decoder.* -> word embeddings, cls.predictions.bias).
            assertEquals(expected, new TreeSet<>(got.names()));
            assertEquals(Map.of("format", "pt"), got.metadata());
        }
    }

    @Test
    void configIsHfBertConfigForMaskedLm() throws Exception {
        Map<String, Object> got = Json.asObject(Json.parse(Files.readString(model.resolve("config.json"))), "config.json");
        Map<String, Object> want = Json.asObject(Json.parse(Files.readString(tiny.resolve("config.json"))), "config.json");
        for (String k : want.keySet()) {
            if (k.equals("architectures")) continue;
            assertEquals(want.get(k), got.get(k), k);
        }
        assertEquals(List.of("BertForMaskedLM"), got.get("architectures"));
        assertEquals(Boolean.TRUE, got.get("use_cache"));
        assertEquals(Boolean.FALSE, got.get("gradient_checkpointing"));
        assertEquals(List.copyOf(new TreeSet<>(got.keySet())), List.copyOf(got.keySet()), "keys sorted as HF writes them");
        Map<String, Object> tc = Json.asObject(Json.parse(Files.readString(model.resolve("tokenizer_config.json"))), "tokenizer_config.json");
        assertEquals(Boolean.TRUE, tc.get("do_lower_case"), "from assets/model.json");
        assertEquals(24L, tc.get("model_max_length"));
        BertTokenizer tok = BertTokenizer.fromPretrained(model);
        assertEquals(50, tok.vocabSize());
        assertArrayEquals(new int[] {2, 7, 3}, tok.encode("T7").ids(), "lowercased, [CLS]=2 and [SEP]=3 from vocab.txt");
    }

    /** The fixture's padded rows given as pre-tokenized lines, each in a different allowed form. */
    static String idLines() throws Exception {
        long[] ids = Npy.readInt64(tiny.resolve("input_ids.npy")).longs();
        long[] types = Npy.readInt64(tiny.resolve("token_type_ids.npy")).longs();
        long[] mask = Npy.readInt64(tiny.resolve("attention_mask.npy")).longs();
        int s = 11;
        StringBuilder sb = new StringBuilder();
        // row 0: a pair, full length: explicit token_type_ids, no attention_mask (all ones)
        sb.append("{\"input_ids\": ").append(json(ids, 0, 11)).append(", \"token_type_ids\": ").append(json(types, 0, 11)).append("}\n");
        // row 1: given already padded, with its attention mask
        sb.append("{\"attention_mask\": ").append(json(mask, s, s + 11)).append(", \"input_ids\": ").append(json(ids, s, s + 11)).append("}\n");
        // row 2: the 4 real ids only, types and mask defaulted
        sb.append("{\"input_ids\": ").append(json(ids, 2 * s, 2 * s + 4)).append("}\n");
        return sb.toString();
    }

    private static String json(long[] a, int from, int to) {
        return Json.write(java.util.Arrays.copyOfRange(a, from, to));
    }

    @Test
    void forwardOnPreTokenizedIdsMatchesPyTorchInEveryHiddenState() throws Exception {
        Path out = Files.createTempDirectory("bertj-forward-ids");
        TokenizeCommandTest.Result r = TokenizeCommandTest.run(idLines(), "forward", "--model", model.toString(), "--hidden-states",
                "--out", out.toString());
        assertEquals(0, r.status(), r.err());
        assertArrayEquals(Npy.readInt64(tiny.resolve("input_ids.npy")).longs(), Npy.readInt64(out.resolve("input_ids.npy")).longs());
        assertArrayEquals(Npy.readInt64(tiny.resolve("attention_mask.npy")).longs(), Npy.readInt64(out.resolve("attention_mask.npy")).longs());
        assertArrayEquals(Npy.readInt64(tiny.resolve("token_type_ids.npy")).longs(), Npy.readInt64(out.resolve("token_type_ids.npy")).longs());
        Npy.Array hidden = Npy.readFloat32(out.resolve("hidden_states.npy"));
        assertArrayEquals(new int[] {3, 3, 11, 32}, hidden.shape());
        int n = 3 * 11 * 32;
        for (int l = 0; l < 3; l++) {
            float[] want = Npy.readFloat32(tiny.resolve("hidden_states_" + l + ".npy")).floats();
            assertClose("hidden_states[" + l + "]", want, java.util.Arrays.copyOfRange(hidden.floats(), l * n, (l + 1) * n), 1e-5f);
        }
        assertClose("last_hidden_state", Npy.readFloat32(tiny.resolve("last_hidden_state.npy")).floats(),
                Npy.readFloat32(out.resolve("last_hidden_state.npy")).floats(), 1e-5f);
        assertClose("pooler_output", Npy.readFloat32(tiny.resolve("pooler_output.npy")).floats(),
                Npy.readFloat32(out.resolve("pooler_output.npy")).floats(), 1e-5f);
    }

    static void assertClose(String what, float[] want, float[] got, float tol) {
        assertEquals(want.length, got.length, what + " size");
        float max = 0;
        for (int i = 0; i < want.length; i++) max = Math.max(max, Math.abs(want[i] - got[i]));
        assertTrue(max <= tol, what + ": max abs diff " + max + " > " + tol);
    }

    @Test
    void textAndIdLinesMixInOneBatch() throws Exception {
        Path a = Files.createTempDirectory("bertj-mixed"), b = Files.createTempDirectory("bertj-text");
        assertEquals(0, TokenizeCommandTest.run("\"t7 t8 t9\"\n{\"input_ids\": [2, 5, 3]}\n", "forward", "--model", model.toString(),
                "--out", a.toString()).status());
        assertEquals(0, TokenizeCommandTest.run("\"t7 t8 t9\"\n", "forward", "--model", model.toString(), "--out", b.toString()).status());
        long[] ids = Npy.readInt64(a.resolve("input_ids.npy")).longs();
        assertArrayEquals(new long[] {2, 7, 8, 9, 3, 2, 5, 3, 0, 0}, ids, "padded to the longest with [PAD]=0");
        assertArrayEquals(new long[] {1, 1, 1, 1, 1, 1, 1, 1, 0, 0}, Npy.readInt64(a.resolve("attention_mask.npy")).longs());
        float[] mixed = Npy.readFloat32(a.resolve("last_hidden_state.npy")).floats();
        float[] alone = Npy.readFloat32(b.resolve("last_hidden_state.npy")).floats();
        assertClose("the text row, alone and beside an id row", alone, java.util.Arrays.copyOf(mixed, alone.length), 1e-5f);
    }

    @Test
    void badPreTokenizedLinesNameTheLine() {
        String m = model.toString();
        Map<String, String> cases = new java.util.LinkedHashMap<>();
        cases.put("\"ok\"\n{\"text\": \"hi\", \"input_ids\": [2, 3]}\n", "stdin line 2: has both \"text\" and \"input_ids\"");
        cases.put("{\"input_ids\": [2, 5, 50, 3]}\n", "stdin line 1: input_ids[2] = 50 is outside the vocabulary (0..49)");
        cases.put("{\"input_ids\": [2, -1, 3]}\n", "stdin line 1: input_ids[1] = -1 is outside the vocabulary");
        cases.put("{\"input_ids\": [2, 1.5, 3]}\n", "expected an integer for stdin line 1: input_ids[1]");
        cases.put("{\"input_ids\": [2, 5, 3], \"attention_mask\": [1, 1]}\n", "stdin line 1: \"attention_mask\" has 2 values but \"input_ids\" has 3");
        cases.put("{\"input_ids\": [2, 5, 3], \"attention_mask\": [1, 2, 1]}\n", "stdin line 1: attention_mask[1] = 2 is outside 0 and 1");
        cases.put("{\"input_ids\": [2, 5, 3], \"token_type_ids\": [0, 2, 0]}\n", "stdin line 1: token_type_ids[1] = 2 is outside the model's token types (0..1)");
        cases.put("{\"input_ids\": []}\n", "stdin line 1: \"input_ids\" is empty");
        cases.put("{\"input_ids\": " + Json.write(new long[25]) + "}\n", "stdin line 1: 25 input_ids, more than the model's 24 positions");
        cases.put("{\"input_ids\": \"2 3\"}\n", "stdin line 1: \"input_ids\"");
        for (Map.Entry<String, String> c : cases.entrySet()) {
            TokenizeCommandTest.Result r = TokenizeCommandTest.run(c.getKey(), "forward", "--model", m, "--out", model.resolveSibling("bad").toString());
            assertEquals(1, r.status(), c.getKey());
            assertTrue(r.err().contains(c.getValue()), "for " + c.getKey().strip() + " expected '" + c.getValue() + "' in: " + r.err());
        }
        assertFalse(Files.exists(model.resolveSibling("bad").resolve("input_ids.npy")), "nothing written");
        TokenizeCommandTest.Result r = TokenizeCommandTest.run("{\"input_ids\": [2, 3]}\n", "embed", "--model", m);
        assertEquals(1, r.status());
        assertTrue(r.err().contains("stdin line 1: pre-tokenized input (\"input_ids\") is accepted by ./bertj forward"), r.err());
    }

    @Test
    void lowercasingMustBeKnownAndCanBeGiven() throws Exception {
        Path copy = Files.createTempDirectory("bertj-tf-copy");
        for (String f : List.of("variables/variables.index", "variables/variables.data-00000-of-00001", "assets/vocab.txt", "bert_config.json")) {
            Files.createDirectories(copy.resolve(f).getParent());
            Files.copy(tf.resolve(f), copy.resolve(f));
        }
        Path out = copy.resolveSibling(copy.getFileName() + "-out");
        TokenizeCommandTest.Result r = TokenizeCommandTest.run("", "convert", "--tf-checkpoint", copy.toString(), "--out", out.toString());
        assertEquals(1, r.status());
        assertTrue(r.err().contains("--do-lower-case") && r.err().contains("true for an uncased model or false for a cased one"), r.err());
        assertFalse(Files.exists(out));
        r = TokenizeCommandTest.run("", "convert", "--tf-checkpoint", copy.resolve("variables").resolve("variables").toString(),
                "--do-lower-case", "false", "--out", out.toString());
        assertEquals(0, r.status(), r.err());
        Map<String, Object> tc = Json.asObject(Json.parse(Files.readString(out.resolve("tokenizer_config.json"))), "tokenizer_config.json");
        assertEquals(Boolean.FALSE, tc.get("do_lower_case"));
        assertArrayEquals(new int[] {2, 1, 3}, BertTokenizer.fromPretrained(out).encode("T7").ids(), "cased: T7 is [UNK]");
        r = TokenizeCommandTest.run("", "convert", "--tf-checkpoint", copy.toString(), "--onnx", "x.onnx", "--out", out.toString());
        assertEquals(2, r.status());
        assertTrue(r.err().contains("give either --onnx"), r.err());
    }
}
