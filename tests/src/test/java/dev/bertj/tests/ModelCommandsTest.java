package dev.bertj.tests;

import dev.bertj.io.Npy;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code convert}, {@code forward} and {@code embed} end to end, checked against ONNX Runtime. */
class ModelCommandsTest {
    static Path dir;

    @BeforeAll
    static void convert() throws Exception {
        Path onnx = Files.createTempFile("bertj-minilm", ".onnx");
        onnx.toFile().deleteOnExit();
        try (InputStream in = ModelCommandsTest.class.getResourceAsStream("/all-minilm-l6-v2.onnx")) {
            Files.copy(in, onnx, StandardCopyOption.REPLACE_EXISTING);
        }
        dir = Files.createTempDirectory("bertj-converted");
        TokenizeCommandTest.Result r = TokenizeCommandTest.run("", "convert", "--onnx", onnx.toString(),
                "--tokenizer", HfOracle.uncasedTokenizerJson().toString(), "--out", dir.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.err().contains("100% (101/101 tensors)"), "progress is shown: " + r.err());
        for (String f : List.of("model.safetensors", "config.json", "vocab.txt", "tokenizer_config.json", "tokenizer.json")) {
            assertTrue(Files.isRegularFile(dir.resolve(f)), f);
        }
    }

    @Test
    void forwardWritesNpyEqualToOnnxRuntime() throws Exception {
        Path out = Files.createTempDirectory("bertj-forward");
        String in = "\"I like BUAN6342\"\n{\"text\": \"Tokenization is the process of splitting sequence to tokens\"}\n";
        TokenizeCommandTest.Result r = TokenizeCommandTest.run(in, "forward", "--model", dir.toString(), "--out", out.toString());
        assertEquals(0, r.status(), r.err());
        Npy.Array ids = Npy.readInt64(out.resolve("input_ids.npy"));
        assertArrayEquals(new int[] {2, 13}, ids.shape());
        Npy.Array hidden = Npy.readFloat32(out.resolve("last_hidden_state.npy"));
        assertArrayEquals(new int[] {2, 13, 384}, hidden.shape());
        assertFalse(Files.exists(out.resolve("pooler_output.npy")), "the converted MiniLM has no pooler weights");
        int[] mask = java.util.Arrays.stream(Npy.readInt64(out.resolve("attention_mask.npy")).longs()).mapToInt(l -> (int) l).toArray();
        int[] idArr = java.util.Arrays.stream(ids.longs()).mapToInt(l -> (int) l).toArray();
        int[] types = java.util.Arrays.stream(Npy.readInt64(out.resolve("token_type_ids.npy")).longs()).mapToInt(l -> (int) l).toArray();
        MiniLmOnnxRuntimeParityTest.load();
        float[] want = MiniLmOnnxRuntimeParityTest.ort(new dev.bertj.tokenizer.Batch(2, 13, idArr, types, mask, null));
        float d = MiniLmOnnxRuntimeParityTest.maxDiff(want, hidden.floats(), mask, 384);
        assertTrue(d <= 1e-4f, "forward vs ONNX Runtime: " + d);
    }

    @Test
    void embedMeanNormalizedIsUnitLength() {
        TokenizeCommandTest.Result r = TokenizeCommandTest.run("\"hello world\"\n\"a second line\"\n", "embed", "--model", dir.toString(), "--normalize");
        assertEquals(0, r.status(), r.err());
        String[] lines = r.out().strip().split("\n");
        assertEquals(2, lines.length);
        List<Object> v = dev.bertj.io.Json.asArray(dev.bertj.io.Json.parse(lines[0]), "embedding");
        assertEquals(384, v.size());
        double sq = 0;
        for (Object o : v) sq += Math.pow(((Number) o).doubleValue(), 2);
        assertEquals(1.0, sq, 1e-5);
    }

    @Test
    void failedForwardLeavesEarlierOutputsIntact() throws Exception {
        Path out = Files.createTempDirectory("bertj-forward");
        assertEquals(0, TokenizeCommandTest.run("\"first run\"\n", "forward", "--model", dir.toString(), "--out", out.toString()).status());
        byte[] before = Files.readAllBytes(out.resolve("last_hidden_state.npy"));
        TokenizeCommandTest.Result bad = TokenizeCommandTest.run("\"ok\"\n[1, 2]\n", "forward", "--model", dir.toString(), "--out", out.toString());
        assertEquals(1, bad.status());
        assertTrue(bad.err().contains("stdin line 2"), bad.err());
        assertArrayEquals(before, Files.readAllBytes(out.resolve("last_hidden_state.npy")));
        TokenizeCommandTest.Result missing = TokenizeCommandTest.run("\"x\"\n", "forward", "--model", "no/such/dir", "--out", out.toString());
        assertEquals(1, missing.status());
        assertTrue(missing.err().contains("no/such/dir"), missing.err());
    }

    /**
     * Without the GPU backend on the class path (this module has only bertj-core), each model command given
     * {@code --device cuda} stops with one sentence naming what is missing, before reading input or writing
     * output; {@code --device cpu} runs as before.
     */
    @Test
    void deviceCudaWithoutTheGpuBackendSaysWhatIsMissing() throws Exception {
        Path out = Files.createTempDirectory("bertj-forward");
        List<String[]> commands = List.of(
                new String[] {"forward", "--model", dir.toString(), "--out", out.toString(), "--device", "cuda"},
                new String[] {"embed", "--model", dir.toString(), "--device", "cuda:0"},
                new String[] {"classify", "--model", dir.toString(), "--device", "cuda"},
                new String[] {"train", "--model", dir.toString(), "--train", "no-such.jsonl", "--out", out.toString(), "--device", "cuda"});
        for (String[] c : commands) {
            TokenizeCommandTest.Result r = TokenizeCommandTest.run("\"x\"\n", c);
            assertEquals(1, r.status(), c[0] + ": " + r.err());
            assertEquals(1, r.err().strip().lines().count(), c[0] + " prints one line: " + r.err());
            assertTrue(r.err().contains("cannot use device cuda:0") || r.err().contains("needs the GPU backend bertj-cuda"), r.err());
        }
        try (var files = Files.list(out)) {
            assertEquals(0, files.count(), "nothing written");
        }
        TokenizeCommandTest.Result bad = TokenizeCommandTest.run("\"x\"\n", "embed", "--model", dir.toString(), "--device", "tpu");
        assertEquals(2, bad.status());
        assertTrue(bad.err().contains("use cpu, cuda or cuda:N"), bad.err());
        TokenizeCommandTest.Result cpu = TokenizeCommandTest.run("\"x\"\n", "embed", "--model", dir.toString(), "--device", "cpu");
        assertEquals(0, cpu.status(), cpu.err());
    }
}
