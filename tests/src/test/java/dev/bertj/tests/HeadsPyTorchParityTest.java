package dev.bertj.tests;

import dev.bertj.io.SafeTensors;
import dev.bertj.model.BertClassifier;
import dev.bertj.model.BertConfig;
import dev.bertj.model.BertForSequenceClassification;
import dev.bertj.model.BertModel;
import dev.bertj.model.ClassifierOutput;
import dev.bertj.tensor.Tensor;
import dev.bertj.tokenizer.Batch;
import org.jetbrains.bio.npy.NpyFile;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Both heads on the tiny BERT against PyTorch (fixtures from scripts/make_fixtures.py). */
class HeadsPyTorchParityTest {
    static Batch batch() throws Exception {
        TinyBertPyTorchParityTest.load();
        int[] labels = TinyBertPyTorchParityTest.ints(NpyFile.read(TinyBertPyTorchParityTest.dir.resolve("labels.npy"), Integer.MAX_VALUE));
        return new Batch(TinyBertPyTorchParityTest.batch, TinyBertPyTorchParityTest.seq, TinyBertPyTorchParityTest.ids,
                TinyBertPyTorchParityTest.types, TinyBertPyTorchParityTest.mask, labels);
    }

    /** A 0-d .npy (org.jetbrains.bio:npy cannot read those; bertj's reader matches numpy byte for byte, see NpyTest). */
    static float scalar(String file) throws java.io.IOException {
        return dev.bertj.io.Npy.readFloat32(TinyBertPyTorchParityTest.dir.resolve(file)).floats()[0];
    }

    @Test
    void sequenceClassificationLogitsAndLoss() throws Exception {
        Batch b = batch();
        Path dir = Files.createTempDirectory("bertj-seqcls");
        Files.copy(TinyBertPyTorchParityTest.dir.resolve("config.json"), dir.resolve("config.json"));
        Files.copy(TinyBertPyTorchParityTest.dir.resolve("seqcls.safetensors"), dir.resolve("model.safetensors"));
        BertForSequenceClassification m = BertForSequenceClassification.fromPretrained(dir, 3, 0);
        ClassifierOutput out = m.forward(b);
        TinyBertPyTorchParityTest.assertClose("seqcls logits", TinyBertPyTorchParityTest.floats("seqcls_logits.npy"), out.logits(), 1e-5f);
        assertEquals(scalar("seqcls_loss.npy"), out.loss(), 1e-5f);
        assertEquals("LABEL_2", m.labelName(2));
    }

    @ParameterizedTest
    @ValueSource(strings = {"cls_only", "average_all", "pooler"})
    void customHeadEachPooling(String pooling) throws Exception {
        Batch b = batch();
        BertConfig config = BertConfig.read(TinyBertPyTorchParityTest.dir.resolve("config.json"))
                .with("ff_output_dim", 16).with("n_classes", 3).with("ff_dropout", 0.1)
                .with("cls_only", pooling.equals("cls_only")).with("average_all", pooling.equals("average_all"))
                .with("pooler", pooling.equals("pooler"));
        Map<String, Tensor> weights = new LinkedHashMap<>();
        try (SafeTensors st = SafeTensors.open(TinyBertPyTorchParityTest.dir.resolve("model.safetensors"))) {
            for (String n : st.names()) weights.put(n, st.load(n));
        }
        Map<String, Tensor> head = new LinkedHashMap<>();
        try (SafeTensors st = SafeTensors.open(TinyBertPyTorchParityTest.dir.resolve("custom_head.safetensors"))) {
            for (String n : st.names()) head.put(n, st.load(n));
        }
        BertClassifier m = BertClassifier.of(BertModel.of(config, weights, 0), head, 0);
        ClassifierOutput out = m.forward(b);
        TinyBertPyTorchParityTest.assertClose(pooling + " logits", TinyBertPyTorchParityTest.floats("custom_" + pooling + "_logits.npy"), out.logits(), 1e-5f);
        assertEquals(scalar("custom_" + pooling + "_loss.npy"), out.loss(), 1e-5f);
    }

    @Test
    void customHeadNeedsExactlyOnePooling() throws Exception {
        BertConfig both = BertConfig.read(TinyBertPyTorchParityTest.dir.resolve("config.json")).with("cls_only", true).with("pooler", true);
        String msg = assertThrows(IllegalArgumentException.class, () -> dev.bertj.model.CustomHeadConfig.from(both)).getMessage();
        assertTrue(msg.contains("exactly one of cls_only, average_all, pooler"), msg);
    }
}
