package dev.bertj.tests;

import dev.bertj.io.Json;
import dev.bertj.io.Npy;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
            assertEquals(105 + 1, files.count(), "101 encoder tensors + pooler (2) + classifier (2) + loss");
        }
    }
}
