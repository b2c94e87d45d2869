package dev.bertj.tests;

import dev.bertj.io.Npy;
import dev.bertj.model.BertConfig;
import dev.bertj.model.BertForMaskedLM;
import dev.bertj.model.MaskedLmOutput;
import dev.bertj.model.TrainMode;
import dev.bertj.nn.Gradients;
import dev.bertj.tensor.Tensor;
import dev.bertj.tokenizer.Batch;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * BertForMaskedLM against PyTorch autograd ({@code scripts/make_mlm_fixtures.py}): the tiny random BERT
 * with an MLM head whose decoder is tied to the word embeddings, per-token labels (-100 elsewhere).
 * The loss, the logits at the labelled positions, and every parameter gradient (the tied table's
 * holding both the decoder's and the embeddings' parts) agree within {@link GradientPyTorchParityTest}'s rule.
 */
class MaskedLmPyTorchParityTest {
    @Test
    void lossLogitsAndEveryGradientMatchAutograd() throws Exception {
        TinyBertPyTorchParityTest.load();
        Path dir = GradientPyTorchParityTest.grads("mlm");
        BertConfig config = BertConfig.read(TinyBertPyTorchParityTest.dir.resolve("config.json"));
        Map<String, Tensor> stripped = new LinkedHashMap<>();
        GradientPyTorchParityTest.load(dir.resolve("mlm.safetensors")).forEach((k, v) -> stripped.put(k.startsWith("bert.") ? k.substring(5) : k, v));
        BertForMaskedLM m = BertForMaskedLM.of(config, stripped, 0);
        assertEquals(java.util.List.of(), m.bert().newlyInitialized(), "every weight comes from the fixture");

        Batch b = HeadsPyTorchParityTest.batch();
        long[] labels = Npy.readInt64(dir.resolve("labels.npy")).longs();
        int[] tokenLabels = new int[labels.length];
        for (int i = 0; i < labels.length; i++) tokenLabels[i] = (int) labels[i];
        Batch mlm = new Batch(b.batchSize(), b.seqLen(), b.inputIds(), b.tokenTypeIds(), b.attentionMask(), tokenLabels);

        MaskedLmOutput out = m.forward(mlm);
        float[] want = Npy.readFloat32(dir.resolve("debug/logits.npy")).floats();
        assertArrayEquals(new int[] {out.positions().length, config.vocabSize()}, out.logits().shape());
        TinyBertPyTorchParityTest.assertClose("logits at the labelled positions", want, out.logits(), 1e-5f);
        assertEquals(Npy.readFloat32(dir.resolve("loss.npy")).floats()[0], out.loss(), 1e-5f, "inference loss");

        Gradients g = new Gradients();
        MaskedLmOutput step = m.trainStep(mlm, TrainMode.noDropout(), g);
        GradientPyTorchParityTest.compare(dir, step.loss(), g);
    }
}
