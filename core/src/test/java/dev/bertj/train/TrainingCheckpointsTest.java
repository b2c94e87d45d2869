package dev.bertj.train;

import dev.bertj.io.SafeTensors;
import dev.bertj.io.SafeTensorsWriter;
import dev.bertj.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Checkpoint directories: naming, rotation, leftovers of killed writes, and bad resume input named by file and field. */
class TrainingCheckpointsTest {
    @TempDir
    Path tmp;

    static final List<Trainer.Example> TRAIN = TrainerTest.data(52, 11);

    /** Trains the tiny classifier for two epochs with checkpoints every 3 steps into {@code out}. */
    Trainer run(Path out, int keep) throws Exception {
        Trainer t = new Trainer(ResumeTest.fresh("seqcls"), ResumeTest.TOK, ResumeTest.settings(), null)
                .checkpointing(new Trainer.Checkpointing(out, 3, keep, null));
        t.train(TRAIN, null, null);
        return t;
    }

    static List<String> names(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void checkpointsAreNamedByStepHoldTheirFilesAndTheOldestGo() throws Exception {
        Path out = tmp.resolve("out");
        run(out, 2);
        assertEquals(List.of("checkpoint-6", "checkpoint-8"), names(out), "steps 3, 4, 6, 8 written, the newest two kept");
        assertEquals(List.of("config.json", "model.safetensors", "optimizer.safetensors", "tokenizer_config.json", "trainer_state.json", "vocab.txt"),
                names(out.resolve("checkpoint-6")));
        TrainerState st = TrainerState.read(out.resolve("checkpoint-6"));
        assertEquals(6, st.globalStep());
        assertEquals(2, st.epoch());
        assertEquals(4, st.microBatchesDone(), "steps 5 and 6 of epoch 2 took micro-batches 0..3");
        assertFalse(st.epochFinished());
        assertEquals(4, st.epochStartStep());
        assertEquals(8, st.maxSteps());
        assertEquals(2, st.warmupSteps(), "ceil(8 * 0.2)");
        try (SafeTensors opt = SafeTensors.open(out.resolve("checkpoint-6/optimizer.safetensors"))) {
            assertTrue(opt.contains("classifier.weight.exp_avg") && opt.contains("classifier.weight.exp_avg_sq"));
            assertEquals("6", opt.metadata().get("step_count"));
        }
        assertEquals(out.resolve("checkpoint-8"), TrainingCheckpoints.resolve(out), "an output directory resumes from its newest checkpoint");
        assertEquals(out.resolve("checkpoint-6"), TrainingCheckpoints.resolve(out.resolve("checkpoint-6")));
    }

    @Test
    void unfinishedWritesAreNeverTakenAndAreRemovedByTheNextRun() throws Exception {
        Path out = tmp.resolve("out");
        run(out, 0);
        // What a SIGKILL during a write leaves: a complete-looking temporary copy under another name,
        // of a process that no longer exists (pid 2^22 + 1 is above Linux's pid_max default).
        Path partial = out.resolve("checkpoint-9.tmp-4194305-abc123");
        copyTree(out.resolve("checkpoint-8"), partial);
        Path aside = out.resolve("checkpoint-3.old-4194305-def");
        copyTree(out.resolve("checkpoint-3"), aside);
        Files.createDirectory(out.resolve("checkpoint-10")); // a directory without trainer_state.json
        assertEquals(out.resolve("checkpoint-8"), TrainingCheckpoints.latest(out));
        String msg = assertThrows(IllegalArgumentException.class, () -> TrainingCheckpoints.resolve(partial)).getMessage();
        assertTrue(msg.contains("unfinished"), msg);
        msg = assertThrows(IllegalArgumentException.class, () -> TrainingCheckpoints.resolve(out.resolve("checkpoint-10"))).getMessage();
        assertTrue(msg.contains("not a training checkpoint"), msg);

        Trainer t = new Trainer(ResumeTest.fresh("seqcls"), ResumeTest.TOK, ResumeTest.settings(), null)
                .checkpointing(new Trainer.Checkpointing(out, 0, 0, null));
        t.train(TRAIN.subList(0, 8), null, null);
        assertFalse(Files.exists(partial));
        assertFalse(Files.exists(aside));
    }

    @Test
    void theModelInTheOutputDirectoryIsReplacedBesideItsCheckpoints() throws Exception {
        Path out = tmp.resolve("out");
        Trainer t = run(out, 0);
        TrainableModel m = ResumeTest.load("seqcls", out.resolve("checkpoint-8"));
        TrainingCheckpoints.saveModel(out, m, ResumeTest.TOK, null);
        TrainingCheckpoints.saveModel(out, m, ResumeTest.TOK, null);
        assertEquals(List.of("checkpoint-3", "checkpoint-4", "checkpoint-6", "checkpoint-8", "config.json", "model.safetensors",
                "tokenizer_config.json", "vocab.txt"), names(out));
        ResumeTest.assertSameBits(ResumeTest.bits(m), ResumeTest.bits(ResumeTest.load("seqcls", out)));
        assertEquals(8, t.lossCurve().size());
        Path foreign = tmp.resolve("foreign");
        Files.createDirectories(foreign);
        Files.writeString(foreign.resolve("notes.txt"), "mine");
        assertThrows(java.nio.file.DirectoryNotEmptyException.class, () -> TrainingCheckpoints.saveModel(foreign, m, ResumeTest.TOK, null));
        assertThrows(java.nio.file.DirectoryNotEmptyException.class, () -> TrainingCheckpoints.checkOutputDir(foreign));
    }

    /** Resumes the tiny classifier from {@code ckpt} with these settings and data; returns the error message. */
    String resumeError(Path ckpt, TrainableModel model, Trainer.Settings s, List<Trainer.Example> data) {
        Trainer t = new Trainer(model, ResumeTest.TOK, s, null).resumeFrom(ckpt);
        return assertThrows(IllegalArgumentException.class, () -> t.train(data, null, null)).getMessage();
    }

    @Test
    void badResumeInputIsOneSentenceNamingTheFileAndField() throws Exception {
        Path out = tmp.resolve("out");
        run(out, 0);
        Path ckpt = out.resolve("checkpoint-6");
        Trainer.Settings s = ResumeTest.settings();
        TrainableModel model = ResumeTest.load("seqcls", ckpt);

        String msg = resumeError(ckpt, model, new Trainer.Settings(2, 0, 16, 2, s.lr(), 0.2, 0.01, 0.5, 16, 42, 0.3), TRAIN);
        assertTrue(msg.contains("trainer_state.json: field args.train_batch_size is 8 but this run has --batch-size 16"), msg);
        msg = resumeError(ckpt, model, s, TrainerTest.data(52, 99));
        assertTrue(msg.contains("field data.train_sha256"), msg);

        // A trainer_state.json of another model: the custom head's, copied into the classifier's checkpoint.
        Path custom = tmp.resolve("custom");
        new Trainer(ResumeTest.fresh("custom"), ResumeTest.TOK, s, null).checkpointing(new Trainer.Checkpointing(custom, 3, 0, null)).train(TRAIN, null, null);
        Path mixed = tmp.resolve("mixed");
        copyTree(ckpt, mixed);
        Files.copy(custom.resolve("checkpoint-6/trainer_state.json"), mixed.resolve("trainer_state.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        msg = resumeError(mixed, model, s, TRAIN);
        assertTrue(msg.contains("trainer_state.json: field architecture is BertClassifier"), msg);
        // ... and its optimizer state.
        copyTree(ckpt, mixed);
        Files.copy(custom.resolve("checkpoint-6/optimizer.safetensors"), mixed.resolve("optimizer.safetensors"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        msg = resumeError(mixed, model, s, TRAIN);
        assertTrue(msg.contains("optimizer.safetensors: tensor ") && msg.endsWith("is not the exp_avg or exp_avg_sq of a parameter of this model"), msg);

        // Malformed fields.
        copyTree(ckpt, mixed);
        String json = Files.readString(ckpt.resolve("trainer_state.json"));
        Files.writeString(mixed.resolve("trainer_state.json"), json.replace("\"global_step\": 6", "\"global_step\": \"six\""));
        msg = resumeError(mixed, model, s, TRAIN);
        assertTrue(msg.endsWith("trainer_state.json: field global_step is not an integer"), msg);
        Files.writeString(mixed.resolve("trainer_state.json"), json.replace("\"global_step\": 6", "\"global_step\": 5"));
        msg = resumeError(mixed, model, s, TRAIN);
        assertTrue(msg.contains("field log_history has 6 step entries, but global_step is 5"), msg);
        Files.writeString(mixed.resolve("trainer_state.json"), json.replace("\"format\": \"bertj-trainer-state-1\"", "\"format\": \"hf\""));
        msg = resumeError(mixed, model, s, TRAIN);
        assertTrue(msg.contains("field format is \"hf\""), msg);
        Files.delete(mixed.resolve("trainer_state.json"));
        msg = resumeError(mixed, model, s, TRAIN);
        assertTrue(msg.contains("is not a training checkpoint: it has no trainer_state.json"), msg);

        // An optimizer file whose moments have the wrong shape.
        copyTree(ckpt, mixed);
        Map<String, Tensor> bad = new LinkedHashMap<>();
        bad.put("classifier.bias.exp_avg", Tensor.zeros(3));
        bad.put("classifier.bias.exp_avg_sq", Tensor.zeros(3));
        SafeTensorsWriter.write(mixed.resolve("optimizer.safetensors"), bad,
                Map.of("format", "bertj-adamw-1", "step_count", "6", "param_steps", "{\"classifier.bias\": 6}"));
        msg = resumeError(mixed, model, s, TRAIN);
        assertTrue(msg.contains("optimizer.safetensors: tensor classifier.bias.exp_avg has shape [3], the parameter [2]"), msg);
    }

    static void copyTree(Path from, Path to) throws Exception {
        if (Files.exists(to)) dev.bertj.io.AtomicFiles.deleteTree(to);
        Files.createDirectories(to);
        try (Stream<Path> s = Files.list(from)) {
            for (Path p : s.toList()) Files.copy(p, to.resolve(p.getFileName()));
        }
    }
}
