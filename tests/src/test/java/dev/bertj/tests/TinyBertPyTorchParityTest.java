package dev.bertj.tests;

import dev.bertj.model.BertModel;
import dev.bertj.model.BertModelOutput;
import dev.bertj.tensor.Tensor;
import org.jetbrains.bio.npy.NpyArray;
import org.jetbrains.bio.npy.NpyFile;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A tiny random BERT against PyTorch: fixtures made by {@code scripts/make_fixtures.py}
 * (PyTorch 1.13, seed 0; see fixtures/tiny-bert/README.md). Every hidden state, attention map and
 * the pooler agree to 1e-5 (float32 vs float64 differ by 1.1e-6 there).
 */
class TinyBertPyTorchParityTest {
    static Path dir;
    static int batch, seq;
    static int[] ids, types, mask;

    @BeforeAll
    static void load() throws URISyntaxException {
        dir = Path.of(TinyBertPyTorchParityTest.class.getResource("/fixtures/tiny-bert/config.json").toURI()).getParent();
        NpyArray in = NpyFile.read(dir.resolve("input_ids.npy"), Integer.MAX_VALUE);
        batch = in.getShape()[0];
        seq = in.getShape()[1];
        ids = ints(in);
        types = ints(NpyFile.read(dir.resolve("token_type_ids.npy"), Integer.MAX_VALUE));
        mask = ints(NpyFile.read(dir.resolve("attention_mask.npy"), Integer.MAX_VALUE));
    }

    static int[] ints(NpyArray a) {
        return Arrays.stream(a.asLongArray()).mapToInt(Math::toIntExact).toArray();
    }

    static float[] floats(String file) {
        return NpyFile.read(dir.resolve(file), Integer.MAX_VALUE).asFloatArray();
    }

    static void assertClose(String what, float[] want, Tensor got, float tol) {
        assertEquals(want.length, got.size(), what + " size");
        float max = 0;
        for (int i = 0; i < want.length; i++) max = Math.max(max, Math.abs(want[i] - got.data()[i]));
        assertTrue(max <= tol, what + ": max abs diff " + max + " > " + tol);
    }

    @Test
    void everyHiddenStateAttentionAndPooler() throws Exception {
        BertModel model = BertModel.fromPretrained(dir);
        assertTrue(model.newlyInitialized().isEmpty(), "complete checkpoint: " + model.newlyInitialized());
        BertModelOutput out = model.forward(ids, types, mask, batch, seq, true, true);
        assertArrayEquals(new int[] {batch, seq, 32}, out.lastHiddenState().shape());
        assertClose("last_hidden_state", floats("last_hidden_state.npy"), out.lastHiddenState(), 1e-5f);
        assertClose("pooler_output", floats("pooler_output.npy"), out.poolerOutput(), 1e-5f);
        assertEquals(3, out.hiddenStates().size());
        for (int i = 0; i < 3; i++) assertClose("hidden_states[" + i + "]", floats("hidden_states_" + i + ".npy"), out.hiddenStates().get(i), 1e-5f);
        for (int i = 0; i < 2; i++) assertClose("attentions[" + i + "]", floats("attentions_" + i + ".npy"), out.attentions().get(i), 1e-5f);
    }

    @Test
    void bertPrefixedCheckpointLoadsTheSameWeights() throws Exception {
        // seqcls.safetensors is the BertForSequenceClassification checkpoint: "bert." names plus classifier.*.
        BertModel plain = BertModel.fromPretrained(dir);
        java.nio.file.Path tmp = java.nio.file.Files.createTempDirectory("bertj-seqcls");
        java.nio.file.Files.copy(dir.resolve("config.json"), tmp.resolve("config.json"));
        java.nio.file.Files.copy(dir.resolve("seqcls.safetensors"), tmp.resolve("model.safetensors"));
        BertModel prefixed = BertModel.fromPretrained(tmp);
        BertModelOutput a = plain.forward(ids, types, mask, batch, seq, false, false);
        BertModelOutput b = prefixed.forward(ids, types, mask, batch, seq, false, false);
        assertArrayEquals(a.lastHiddenState().data(), b.lastHiddenState().data());
    }
}
