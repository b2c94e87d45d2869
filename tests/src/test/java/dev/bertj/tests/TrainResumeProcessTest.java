package dev.bertj.tests;

import dev.bertj.io.Json;
import dev.bertj.io.SafeTensorsWriter;
import dev.bertj.model.BertConfig;
import dev.bertj.model.BertModel;
import dev.bertj.train.Checkpoint;
import dev.bertj.train.TrainingCheckpoints;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Crash and resume with real processes: a child JVM runs {@code dev.bertj.cli.Main train ...} and
 * is killed with SIGKILL, once in the middle of a checkpoint write and once during a training step.
 * Each time: every directory named {@code checkpoint-<step>} is complete and loads, the unfinished
 * write is never taken for a checkpoint, and {@code train --resume OUT} in a new process finishes
 * the run with a model, a final checkpoint and per-epoch metrics bit-identical to an uninterrupted
 * run's (byte-identical files).
 *
 * <p>The children run the Vector API kernels, as {@code ./bertj} does: their exp is built from adds,
 * multiplies and FMAs, so a fresh JVM's first steps round exactly as a warm one's (before, the
 * children had to run the scalar kernels because {@code lanewise(EXP)} did not).
 *
 * <p>A small random BERT (hidden 64, 3 layers, 48 tokens) keeps a step around a hundred milliseconds,
 * so a kill aimed at a step lands in one. 40 examples, batch 4, accumulation 2: 5 steps per epoch,
 * 10 in all; checkpoints every 2 steps and at epoch ends (2, 4, 5, 6, 8, 10), the newest 3 kept.
 */
class TrainResumeProcessTest {
    static Path root, model, data;
    static final String[] RUN = {"--epochs", "2", "--batch-size", "4", "--gradient-accumulation", "2", "--max-length", "48",
        "--lr", "1e-3", "--save-steps", "2", "--save-total-limit", "3", "--seed", "7"};

    @BeforeAll
    static void prepare() throws Exception {
        root = Files.createTempDirectory("bertj-resume");
        model = root.resolve("model");
        Files.createDirectories(model);
        BertConfig c = BertConfig.of(Map.of("vocab_size", 50L, "hidden_size", 64L, "num_hidden_layers", 3L, "num_attention_heads", 4L,
                "intermediate_size", 128L, "max_position_embeddings", 48L, "architectures", List.of("BertModel")));
        Files.writeString(model.resolve("config.json"), c.toJson());
        SafeTensorsWriter.write(model.resolve("model.safetensors"), BertModel.of(c, Map.of(), 3).parameters(), Map.of("format", "pt"));
        Files.write(model.resolve("vocab.txt"), CheckpointTest.tinyVocab());
        Files.writeString(model.resolve("tokenizer_config.json"), "{\"do_lower_case\": true}");
        // A tokenizer.json too: each save copies it, also after the checkpoint a run resumed from is rotated away.
        CheckpointTest.tokenizerJson(model.resolve("tokenizer.json"), CheckpointTest.tinyVocab());
        data = root.resolve("train.jsonl");
        Random r = new Random(5);
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            int label = r.nextInt(2);
            StringBuilder sb = new StringBuilder();
            // Words w6..w24 for label 0, w26..w44 for label 1 (w5, w10, ... are ## pieces in the fixture vocabulary).
            for (int k = 0, n = 20 + r.nextInt(26); k < n; k++) {
                int w = 6 + label * 20 + r.nextInt(19);
                sb.append(w % 5 == 0 ? "w" + (w + 1) : "w" + w).append(' ');
            }
            lines.add(Json.write(Map.of("text", sb.toString().strip(), "label", label == 0 ? "a" : "b")));
        }
        Files.write(data, lines);
    }

    /** The command line of a child JVM running {@code ./bertj train}, with the flags every child shares. */
    static List<String> child(List<String> jvm, String... trainArgs) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules=jdk.incubator.vector", "-Dbertj.threads=2", "-Xmx512m", "-cp", System.getProperty("java.class.path")));
        cmd.addAll(jvm);
        cmd.add("dev.bertj.cli.Main");
        cmd.add("train");
        cmd.addAll(List.of(trainArgs));
        return cmd;
    }

    static String[] train(String task, Path out) {
        List<String> a = new ArrayList<>(List.of("--model", model.toString(), "--train", data.toString(), "--out", out.toString(), "--task", task));
        a.addAll(List.of(RUN));
        return a.toArray(String[]::new);
    }

    /** Runs a child to the end; returns its stderr. */
    static String runToEnd(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(5, TimeUnit.MINUTES));
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    /** Every file under {@code dir} except metrics.json and report.html (they hold the wall time), by relative path. */
    static Map<String, byte[]> files(Path dir) throws IOException {
        Map<String, byte[]> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                if (!List.of("metrics.json", "report.html").contains(p.getFileName().toString())) m.put(dir.relativize(p).toString(), Files.readAllBytes(p));
            }
        }
        return m;
    }

    static Object epochs(Path out) throws IOException {
        return Json.asObject(Json.parse(Files.readString(out.resolve("metrics.json"))), "metrics").get("epochs");
    }

    static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** Resumes {@code out} in a new process and checks the run ends exactly as the uninterrupted {@code ref}. */
    static void resumeAndCompare(Path out, Path ref) throws Exception {
        String log = runToEnd(child(List.of(), "--resume", out.toString(), "--train", data.toString()));
        assertTrue(log.contains("resuming from"), log);
        assertFalse(names(out).stream().anyMatch(n -> n.contains(".tmp-") || n.contains(".old-")), "leftovers removed: " + names(out));
        Map<String, byte[]> want = files(ref), got = files(out);
        // The resumed run keeps what it found before the crash, so it may hold an older checkpoint the
        // uninterrupted run rotated out at another moment; the model and the last checkpoints agree.
        for (String f : List.of("model.safetensors", "config.json", "vocab.txt", "tokenizer_config.json", "tokenizer.json",
                "checkpoint-10/model.safetensors", "checkpoint-10/optimizer.safetensors", "checkpoint-10/trainer_state.json",
                "checkpoint-8/optimizer.safetensors")) {
            assertTrue(want.containsKey(f) && got.containsKey(f), f);
            assertArrayEquals(want.get(f), got.get(f), f + " is not byte-identical to the uninterrupted run's");
        }
        assertEquals(epochs(ref), epochs(out), "per-epoch train loss and metrics");
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void killedDuringACheckpointWriteResumesFromThePreviousOne() throws Exception {
        Path ref = root.resolve("ref-cls"), out = root.resolve("killed-in-write");
        runToEnd(child(List.of(), train("classification", ref)));
        assertEquals(List.of("checkpoint-10", "checkpoint-6", "checkpoint-8", "config.json", "metrics.json", "model.safetensors",
                "report.html", "tokenizer.json", "tokenizer_config.json", "vocab.txt"), names(ref));

        // The write of checkpoint-4 stops half done (model files written, optimizer and state not yet) for a minute.
        Process p = new ProcessBuilder(child(List.of("-Dbertj.checkpoint.pause=4:60000"), train("classification", out)))
                .redirectErrorStream(true).redirectOutput(root.resolve("killed-in-write.log").toFile()).start();
        Path partial = null;
        for (long until = System.nanoTime() + TimeUnit.MINUTES.toNanos(3); partial == null && System.nanoTime() < until; Thread.sleep(20)) {
            assertTrue(p.isAlive(), () -> "the run ended early: " + read(root.resolve("killed-in-write.log")));
            if (!Files.isDirectory(out)) continue;
            try (Stream<Path> s = Files.list(out)) {
                partial = s.filter(d -> d.getFileName().toString().startsWith("checkpoint-4.tmp-") && Files.isRegularFile(d.resolve("config.json")))
                        .findFirst().orElse(null);
            }
        }
        assertTrue(partial != null, "the write of checkpoint-4 never started");
        p.destroyForcibly(); // SIGKILL on Linux
        assertTrue(p.waitFor(1, TimeUnit.MINUTES));
        assertEquals(137, p.exitValue(), "killed by SIGKILL");

        assertTrue(Files.isDirectory(partial), "the unfinished write is still there");
        assertFalse(Files.exists(partial.resolve("trainer_state.json")), "killed before the state was written");
        assertFalse(Files.exists(out.resolve("checkpoint-4")), "no partial directory is ever named a checkpoint");
        assertEquals(out.resolve("checkpoint-2"), TrainingCheckpoints.resolve(out));
        assertEquals(2, Checkpoint.loadSequenceClassification(out.resolve("checkpoint-2")).numLabels(), "the last checkpoint loads");
        resumeAndCompare(out, ref);
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void killedDuringAStepResumesBitIdenticalForMaskedLm() throws Exception {
        Path ref = root.resolve("ref-mlm"), out = root.resolve("killed-in-step");
        runToEnd(child(List.of(), train("mlm", ref)));

        // Killed as soon as step 7 is reported: the process is in step 8 (checkpoint 8 comes after it).
        Process p = new ProcessBuilder(child(List.of(), train("mlm", out))).redirectErrorStream(true).start();
        AtomicReference<String> seen = new AtomicReference<>("");
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                seen.set(seen.get() + line + "\n");
                if (line.contains(" step 7/10 ")) {
                    p.destroyForcibly();
                    break;
                }
            }
        }
        assertTrue(p.waitFor(1, TimeUnit.MINUTES));
        assertEquals(137, p.exitValue(), () -> "killed by SIGKILL; output:\n" + seen.get());
        List<String> left = names(out);
        assertTrue(left.contains("checkpoint-6") && !left.contains("checkpoint-8"), "killed during step 8: " + left);
        assertFalse(left.stream().anyMatch(n -> n.contains(".tmp-")), "no write was under way: " + left);
        assertEquals(out.resolve("checkpoint-6"), TrainingCheckpoints.resolve(out));
        assertEquals(50, Checkpoint.loadMaskedLm(out.resolve("checkpoint-6")).vocabSize(), "the last checkpoint loads");
        resumeAndCompare(out, ref);
    }

    @Test
    void badResumeInputIsOneSentence() throws Exception {
        Path ckpt = root.resolve("bad");
        TokenizeCommandTest.Result r = TokenizeCommandTest.run("", "train", "--resume", model.toString(), "--train", data.toString());
        assertEquals(1, r.status(), r.err());
        assertTrue(r.err().contains(model + " is not a training checkpoint (no trainer_state.json)"), r.err());
        // A short classification run to have a checkpoint, then resumed with a setting it does not have.
        List<String> a = new ArrayList<>(List.of("train"));
        a.addAll(List.of(train("classification", ckpt)));
        a.set(a.indexOf("--epochs") + 1, "1");
        r = TokenizeCommandTest.run("", a.toArray(String[]::new));
        assertEquals(0, r.status(), r.err());
        r = TokenizeCommandTest.run("", "train", "--resume", ckpt.toString(), "--train", data.toString(), "--batch-size", "8");
        assertEquals(1, r.status(), r.err());
        assertTrue(r.err().contains("checkpoint-5/trainer_state.json: field args.train_batch_size is 4 but this run has --batch-size 8"), r.err());
        r = TokenizeCommandTest.run("", "train", "--resume", ckpt.toString(), "--train", data.toString(), "--task", "mlm");
        assertEquals(1, r.status(), r.err());
        assertTrue(r.err().contains("checkpoint-5/trainer_state.json: field architecture is BertForSequenceClassification, a classification run, not --task mlm"), r.err());
        // A fresh run into the directory of another run's checkpoints is refused: a later --resume would take them for its own.
        r = TokenizeCommandTest.run("", a.toArray(String[]::new));
        assertEquals(1, r.status(), r.err());
        assertTrue(r.err().contains(ckpt + " already holds the checkpoints of a run (checkpoint-5); continue it with --resume"), r.err());
    }

    static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return e.toString();
        }
    }
}
