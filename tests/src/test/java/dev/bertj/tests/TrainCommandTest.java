package dev.bertj.tests;

import dev.bertj.io.Json;
import dev.bertj.io.Npy;
import dev.bertj.model.BertForMaskedLM;
import dev.bertj.model.MaskedLmOutput;
import dev.bertj.model.TrainMode;
import dev.bertj.nn.Gradients;
import dev.bertj.tokenizer.Batch;
import dev.bertj.tokenizer.BertTokenizer;
import dev.bertj.train.Checkpoint;
import dev.bertj.train.MaskedLmTaskModel;
import dev.bertj.train.Trainer;
import dev.bertj.train.TrainerState;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The short CI training run: MiniLM (converted by bertj) fine-tuned on the committed
 * SpamAssassin sample through the real commands (data, train, classify).
 */
class TrainCommandTest {
    static Path model, data;

    @BeforeAll
    static void prepare() throws Exception {
        ModelCommandsTest.convert();
        model = ModelCommandsTest.dir;
        Path sample = Files.createTempFile("bertj-sample", ".jsonl");
        try (InputStream in = TrainCommandTest.class.getResourceAsStream("/spamassassin/sample.jsonl")) {
            Files.copy(in, sample, StandardCopyOption.REPLACE_EXISTING);
        }
        data = Files.createTempDirectory("bertj-data");
        TokenizeCommandTest.Result r = TokenizeCommandTest.run("", "data", "spamassassin", "--corpus", sample.toString(), "--out", data.toString());
        assertEquals(0, r.status(), r.err());
    }

    @SuppressWarnings("unchecked")
    @Test
    void lossGoesDownAndAccuracyBeatsTheMajorityClass() throws Exception {
        Path out = Files.createTempDirectory("bertj-trained");
        TokenizeCommandTest.Result r = TokenizeCommandTest.run("", "train", "--model", model.toString(),
                "--train", data.resolve("train.jsonl").toString(), "--validation", data.resolve("validation.jsonl").toString(),
                "--test", data.resolve("test.jsonl").toString(), "--epochs", "2", "--batch-size", "16", "--max-length", "64",
                "--lr", "1e-4", "--out", out.toString());
        assertEquals(0, r.status(), r.err());
        Map<String, Object> metrics = (Map<String, Object>) Json.parse(Files.readString(out.resolve("metrics.json")));
        List<Object> epochs = Json.asArray(metrics.get("epochs"), "epochs");
        double first = Json.asDouble(((Map<String, Object>) epochs.get(0)).get("train_loss"), "loss");
        double second = Json.asDouble(((Map<String, Object>) epochs.get(1)).get("train_loss"), "loss");
        assertTrue(second < first, "train loss " + first + " -> " + second);
        // Step-level series: HF's log_history fields, one entry per optimizer step, and the report drawn from them.
        List<Object> log = Json.asArray(metrics.get("log_history"), "log_history");
        assertEquals(Json.asLong(metrics.get("steps"), "steps"), log.size());
        for (Object o : log) {
            Map<String, Object> e = (Map<String, Object>) o;
            assertTrue(Json.asDouble(e.get("loss"), "loss") > 0 && Json.asDouble(e.get("learning_rate"), "lr") >= 0
                    && Json.asDouble(e.get("grad_norm"), "grad_norm") > 0, "step entry " + e);
        }
        String report = Files.readString(out.resolve("report.html"));
        for (String h : List.of("Training loss", "Learning rate", "Gradient norm before clipping", "Validation metrics per epoch", "Confusion matrix")) {
            assertTrue(report.contains("<h2>" + h + "</h2>"), "report.html has " + h);
        }
        assertTrue(report.contains("title=\"true ham, predicted ham: "), "a labelled confusion matrix");
        Map<String, Object> test = (Map<String, Object>) metrics.get("test");
        long count = Json.asLong(test.get("count"), "count");
        List<Object> cm = Json.asArray(test.get("confusion_matrix"), "cm");
        long ham = 0;
        for (Object v : Json.asArray(cm.get(0), "row")) ham += Json.asLong(v, "cell");
        double majority = (double) Math.max(ham, count - ham) / count;
        double accuracy = Json.asDouble(test.get("accuracy"), "accuracy");
        System.err.println("TrainCommandTest: train loss " + first + " -> " + second + ", test accuracy " + accuracy + " (majority " + majority + ")");
        assertTrue(accuracy > majority, "test accuracy " + accuracy + " vs majority class " + majority);

        TokenizeCommandTest.Result c = TokenizeCommandTest.run("\"FREE!!! Click here to claim your prize money now\"\n", "classify", "--model", out.toString());
        assertEquals(0, c.status(), c.err());
        Map<String, Object> row = (Map<String, Object>) Json.parse(c.out().strip());
        assertTrue(List.of("ham", "spam").contains(row.get("label")), c.out());
        double sum = 0;
        for (Object p : ((Map<String, Object>) row.get("scores")).values()) sum += ((Number) p).doubleValue();
        assertEquals(1.0, sum, 1e-5);
    }

    @Test
    void dumpGradsWritesEveryParameterAndTheLoss() throws Exception {
        Path grads = Files.createTempDirectory("bertj-grads");
        TokenizeCommandTest.Result r = TokenizeCommandTest.run("", "train", "--model", model.toString(),
                "--train", data.resolve("train.jsonl").toString(), "--batch-size", "2", "--max-length", "32", "--dropout", "0",
                "--dump-grads", grads.toString());
        assertEquals(0, r.status(), r.err());
        Npy.Array q = Npy.readFloat32(grads.resolve("bert.encoder.layer.0.attention.self.query.weight.npy"));
        assertArrayEquals(new int[] {384, 384}, q.shape());
        assertArrayEquals(new int[] {2, 384}, Npy.readFloat32(grads.resolve("classifier.weight.npy")).shape());
        assertTrue(Files.isRegularFile(grads.resolve("loss.npy")));
        try (var files = Files.list(grads)) {
            assertEquals(105 + 2, files.count(), "101 encoder tensors + pooler (2) + classifier (2) + loss + inputs/");
        }
        assertArrayEquals(new int[] {2}, Npy.readInt64(grads.resolve("inputs/labels.npy")).shape());
    }

    /** Texts of a JSON Lines file, as train reads them. */
    static List<Trainer.Example> texts(Path file) throws Exception {
        List<Trainer.Example> out = new ArrayList<>();
        for (String l : Files.readAllLines(file)) {
            if (!l.isBlank()) out.add(Trainer.Example.text(Json.asString(Json.asObject(Json.parse(l), "line").get("text"), "text")));
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    @Test
    void maskedLmFineTuningLowersTheHeldOutLossAndSavesAnHfMaskedLmCheckpoint() throws Exception {
        Path out = Files.createTempDirectory("bertj-mlm");
        TokenizeCommandTest.Result r = TokenizeCommandTest.run("", "train", "--task", "mlm", "--model", model.toString(),
                "--train", data.resolve("train.jsonl").toString(), "--validation", data.resolve("validation.jsonl").toString(),
                "--test", data.resolve("test.jsonl").toString(), "--max-steps", "8", "--batch-size", "16", "--max-length", "64",
                "--lr", "1e-4", "--save-steps", "4", "--out", out.toString());
        assertEquals(0, r.status(), r.err());
        Map<String, Object> metrics = (Map<String, Object>) Json.parse(Files.readString(out.resolve("metrics.json")));
        assertEquals("mlm", metrics.get("task"));
        Map<String, Object> epoch = (Map<String, Object>) Json.asArray(metrics.get("epochs"), "epochs").get(0);
        double trainLoss = Json.asDouble(epoch.get("train_loss"), "train_loss");
        assertEquals(Math.exp(trainLoss), Json.asDouble(epoch.get("train_perplexity"), "ppl"), 1e-9 * Math.exp(trainLoss));
        Map<String, Object> val = (Map<String, Object>) epoch.get("validation");
        double after = Json.asDouble(val.get("loss"), "loss");
        assertEquals(Math.exp(after), Json.asDouble(val.get("perplexity"), "perplexity"), 1e-9 * Math.exp(after));
        assertTrue(Json.asLong(val.get("tokens"), "tokens") > 100, "masked validation tokens: " + val);
        assertTrue(((Map<String, Object>) metrics.get("test")).get("perplexity") instanceof Double, metrics.toString());

        // The same validation masks (seed 42, evaluation streams) on the model before fine-tuning.
        BertTokenizer tok = BertTokenizer.fromPretrained(model);
        Trainer.Settings s = new Trainer.Settings(1, 8, 16, 1, 1e-4, 0.1, 0.01, 1.0, 64, 42, 0.15);
        double before = new Trainer(MaskedLmTaskModel.of(BertForMaskedLM.fromPretrained(model)), tok, s, null)
                .evaluateMaskedLm(texts(data.resolve("validation.jsonl"))).loss();
        System.err.println("TrainCommandTest MLM: validation loss " + before + " -> " + after + ", perplexity " + Math.exp(before) + " -> " + Math.exp(after));
        assertTrue(after < before, "validation MLM loss " + before + " -> " + after);

        // HF's BertForMaskedLM layout: bert.* (MiniLM has no pooler), the head, no tied decoder.
        assertEquals(List.of("BertForMaskedLM"), CheckpointTest.json(out.resolve("config.json")).get("architectures"));
        Map<String, List<Integer>> shapes = CheckpointTest.shapes(out.resolve("model.safetensors"));
        assertEquals(101 + 5, shapes.size(), shapes.keySet().toString());
        assertEquals(List.of(384, 384), shapes.get("cls.predictions.transform.dense.weight"));
        assertEquals(List.of(30522), shapes.get("cls.predictions.bias"));
        assertTrue(shapes.keySet().stream().allMatch(k -> k.startsWith("bert.") || k.startsWith("cls.predictions.")));
        assertFalse(shapes.keySet().stream().anyMatch(k -> k.startsWith("cls.predictions.decoder.") || k.startsWith("bert.pooler.")));
        MaskedLmTaskModel trained = MaskedLmTaskModel.of(Checkpoint.loadMaskedLm(out));
        assertTrue(Files.isRegularFile(out.resolve("checkpoint-8/optimizer.safetensors")));
        assertEquals(8, TrainerState.read(out.resolve("checkpoint-8")).globalStep());

        // For scripts/check_hf_checkpoint.py: the checkpoint, a masked validation batch and bertj's logits there.
        Batch b = new Trainer(trained, tok, s, null).firstBatch(texts(data.resolve("validation.jsonl")));
        MaskedLmOutput o = trained.forward(b);
        exportMaskedLm(out, b, o);
    }

    static void exportMaskedLm(Path ckpt, Batch b, MaskedLmOutput o) throws Exception {
        String export = System.getProperty("bertj.checkpoint.export");
        if (export == null) return;
        Path dir = Path.of(export);
        Path inputs = dir.resolve("mlm_inputs");
        Files.createDirectories(inputs);
        for (String f : List.of("config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json", "tokenizer.json")) {
            Files.createDirectories(dir.resolve("mlm"));
            if (Files.isRegularFile(ckpt.resolve(f))) Files.copy(ckpt.resolve(f), dir.resolve("mlm").resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
        Npy.writeInt64(inputs.resolve("input_ids.npy"), b.inputIds(), b.batchSize(), b.seqLen());
        Npy.writeInt64(inputs.resolve("token_type_ids.npy"), b.tokenTypeIds(), b.batchSize(), b.seqLen());
        Npy.writeInt64(inputs.resolve("attention_mask.npy"), b.attentionMask(), b.batchSize(), b.seqLen());
        Npy.writeInt64(inputs.resolve("labels.npy"), b.labels(), b.batchSize(), b.seqLen());
        Npy.writeFloat32(dir.resolve("mlm_logits.npy"), o.logits().data(), o.logits().shape());
        Npy.writeFloat32(dir.resolve("mlm_loss.npy"), new float[] {o.loss()});
    }

    @Test
    void dumpGradsForMaskedLmWritesTheMaskedBatchAndItsGradients() throws Exception {
        Path grads = Files.createTempDirectory("bertj-grads-mlm");
        TokenizeCommandTest.Result r = TokenizeCommandTest.run("", "train", "--task", "mlm", "--model", model.toString(),
                "--train", data.resolve("train.jsonl").toString(), "--batch-size", "2", "--max-length", "32", "--dropout", "0",
                "--dump-grads", grads.toString());
        assertEquals(0, r.status(), r.err());
        Npy.Array labels = Npy.readInt64(grads.resolve("inputs/labels.npy"));
        Npy.Array ids = Npy.readInt64(grads.resolve("inputs/input_ids.npy"));
        assertArrayEquals(ids.shape(), labels.shape(), "per-token labels");
        long masked = java.util.Arrays.stream(labels.longs()).filter(v -> v != -100).count();
        assertTrue(masked > 0, "some tokens selected");
        assertArrayEquals(new int[] {30522, 384}, Npy.readFloat32(grads.resolve("bert.embeddings.word_embeddings.weight.npy")).shape());
        assertArrayEquals(new int[] {30522}, Npy.readFloat32(grads.resolve("cls.predictions.bias.npy")).shape());
        // The dumped gradients are those of the dumped batch: recomputed here through the model API.
        int[] idArr = java.util.Arrays.stream(ids.longs()).mapToInt(v -> (int) v).toArray();
        int[] lab = java.util.Arrays.stream(labels.longs()).mapToInt(v -> (int) v).toArray();
        int[] mask = java.util.Arrays.stream(Npy.readInt64(grads.resolve("inputs/attention_mask.npy")).longs()).mapToInt(v -> (int) v).toArray();
        Batch b = new Batch(ids.shape()[0], ids.shape()[1], idArr, new int[idArr.length], mask, lab);
        BertForMaskedLM m = BertForMaskedLM.fromPretrained(model);
        Gradients g = new Gradients();
        float loss = m.trainStep(b, TrainMode.noDropout(), g).loss();
        assertEquals(loss, Npy.readFloat32(grads.resolve("loss.npy")).floats()[0], 1e-5f * Math.abs(loss));
        float[] want = g.get("cls.predictions.transform.dense.weight"), got = Npy.readFloat32(grads.resolve("cls.predictions.transform.dense.weight.npy")).floats();
        float scale = 0, diff = 0;
        for (int i = 0; i < want.length; i++) {
            scale = Math.max(scale, Math.abs(want[i]));
            diff = Math.max(diff, Math.abs(want[i] - got[i]));
        }
        assertTrue(scale > 0 && diff <= 1e-5f * scale, "max diff " + diff + " of " + scale);
    }
}
