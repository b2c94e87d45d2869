package dev.bertj.train;

import dev.bertj.io.Json;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Where a training run stands, as HF's {@code trainer_state.json} records it beside a checkpoint
 * (HF keeps the scheduler in {@code scheduler.pt} and the generators in {@code rng_state.pth}; bertj
 * needs neither file: its schedule is a function of the step and its generators are counter-based).
 *
 * <p>Resuming from this state, the model weights and {@code optimizer.safetensors} continues the run
 * exactly: the next step uses the same data order ({@link #order}, the shuffled example indices of
 * the epoch in progress), the same dropout masks and MLM masks (both drawn from {@code (seed,
 * micro-batch number)}, and the micro-batch number is {@code globalStep x gradientAccumulation}),
 * the same learning rate ({@code LinearSchedule(lr, warmupSteps, maxSteps).lr(globalStep)}) and the
 * same AdamW moments.
 *
 * @param architecture config.json's architecture of the model trained (BertForSequenceClassification, BertClassifier, BertForMaskedLM)
 * @param globalStep optimizer steps done
 * @param epoch the epoch (1-based) the run is in, or has just finished when {@code epochFinished}
 * @param microBatchesDone micro-batches of {@code epoch} already trained on
 * @param epochFinished whether {@code epoch} has been evaluated and reported (the next step starts epoch + 1)
 * @param epochStartStep the global step at which {@code epoch} began (its mean loss sums the losses from there)
 * @param maxSteps the step at which training ends (and the learning rate reaches 0)
 * @param numEpochs epochs the run makes
 * @param warmupSteps steps of linear warmup
 * @param settings the run's settings
 * @param trainExamples number of training examples
 * @param trainSha256 SHA-256 of the encoded training data ({@link Trainer#fingerprint}), to refuse other data
 * @param order the example order of {@code epoch}
 * @param modelSha256 SHA-256 of the model's parameter names and shapes, to refuse another model's state
 * @param losses every optimizer step's training loss so far
 * @param epochs per finished epoch: {@code epoch}, {@code train_loss} and {@code validation} metrics
 * @param saveSteps the run's checkpoint interval (0: epoch ends only), which a resumed run keeps
 * @param saveTotalLimit how many checkpoints the run keeps (0: all)
 */
public record TrainerState(String architecture, int globalStep, int epoch, int microBatchesDone, boolean epochFinished,
                           int epochStartStep, int maxSteps, int numEpochs, int warmupSteps, Trainer.Settings settings,
                           int trainExamples, String trainSha256, int[] order, String modelSha256, List<Double> losses,
                           List<Map<String, Object>> epochs, int saveSteps, int saveTotalLimit) {
    /** The file name inside a checkpoint directory. */
    public static final String FILE = "trainer_state.json";
    /** The value of the {@code format} field this version writes and reads. */
    static final String FORMAT = "bertj-trainer-state-1";

    /** Copies the lists. */
    public TrainerState {
        Objects.requireNonNull(architecture, "architecture");
        Objects.requireNonNull(settings, "settings");
        order = order.clone();
        losses = List.copyOf(losses);
        epochs = List.copyOf(epochs);
    }

    /** A copy of the epoch's example order. */
    @Override
    public int[] order() {
        return order.clone();
    }

    /** As JSON, HF's field names where HF has the field ({@code global_step}, {@code max_steps}, {@code log_history} ...). */
    public String toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", FORMAT);
        m.put("architecture", architecture);
        m.put("global_step", (long) globalStep);
        m.put("max_steps", (long) maxSteps);
        m.put("num_train_epochs", (long) numEpochs);
        Map<String, Object> scheduler = new LinkedHashMap<>();
        // LambdaLR's state: the multiplier is a function of the step, so these four numbers are all of it.
        scheduler.put("type", "linear_with_warmup");
        scheduler.put("base_lr", settings.lr());
        scheduler.put("warmup_steps", (long) warmupSteps);
        scheduler.put("total_steps", (long) maxSteps);
        scheduler.put("last_epoch", (long) globalStep);
        scheduler.put("next_lr", new LinearSchedule(settings.lr(), warmupSteps, maxSteps).lr(globalStep));
        m.put("scheduler", scheduler);
        Map<String, Object> position = new LinkedHashMap<>();
        position.put("epoch", (long) epoch);
        position.put("micro_batches_done", (long) microBatchesDone);
        position.put("epoch_finished", epochFinished);
        position.put("epoch_start_step", (long) epochStartStep);
        m.put("position", position);
        Trainer.Settings s = settings;
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("num_train_epochs", (long) s.epochs());
        args.put("max_steps", (long) s.maxSteps());
        args.put("train_batch_size", (long) s.batchSize());
        args.put("gradient_accumulation_steps", (long) s.gradientAccumulation());
        args.put("learning_rate", s.lr());
        args.put("warmup_ratio", s.warmupRatio());
        args.put("weight_decay", s.weightDecay());
        args.put("max_grad_norm", s.gradClip());
        args.put("max_length", (long) s.maxLength());
        args.put("seed", s.seed());
        args.put("mlm_probability", s.mlmProbability());
        args.put("save_steps", (long) saveSteps);
        args.put("save_total_limit", (long) saveTotalLimit);
        m.put("args", args);
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("train_examples", (long) trainExamples);
        data.put("train_sha256", trainSha256);
        data.put("order", order);
        m.put("data", data);
        Map<String, Object> rng = new LinkedHashMap<>();
        // Dropout and MLM masks are functions of (seed, micro-batch number): this is their whole state.
        rng.put("seed", s.seed());
        rng.put("next_micro_batch", (long) globalStep * s.gradientAccumulation());
        m.put("rng", rng);
        m.put("model_sha256", modelSha256);
        List<Object> log = new ArrayList<>();
        for (int i = 0; i < losses.size(); i++) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("step", (long) i + 1);
            // JSON has no NaN: a step with nothing to predict (masked-LM) has no loss.
            e.put("loss", losses.get(i).isNaN() ? null : losses.get(i));
            log.add(e);
        }
        m.put("log_history", log);
        m.put("epochs", epochs);
        return Json.writePretty(m) + "\n";
    }

    /** Writes {@link #toJson} to {@code dir/trainer_state.json} (not atomically: it goes into a checkpoint's temporary directory). */
    void writeTo(Path dir) throws IOException {
        Files.writeString(dir.resolve(FILE), toJson(), StandardCharsets.UTF_8);
    }

    /**
     * Reads {@code dir/trainer_state.json}.
     *
     * @throws IllegalArgumentException naming the file and the field that is missing or malformed
     */
    public static TrainerState read(Path dir) throws IOException {
        Path file = dir.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(dir + " is not a training checkpoint: it has no " + FILE);
        }
        Fields f = new Fields(file, Json.asObject(parse(file), FILE));
        if (!FORMAT.equals(f.root.get("format"))) {
            throw new IllegalArgumentException(file + ": field format is " + Json.write(f.root.get("format")) + ", expected \"" + FORMAT
                    + "\" (a trainer_state.json written by bertj train)");
        }
        Map<String, Object> pos = f.object(f.root, "position"), args = f.object(f.root, "args"), data = f.object(f.root, "data");
        Map<String, Object> sched = f.object(f.root, "scheduler");
        if (f.integer(sched, "scheduler.total_steps") != f.integer(f.root, "max_steps")) {
            fail(file, "scheduler.total_steps", "is " + sched.get("total_steps") + " but max_steps is " + f.root.get("max_steps"));
        }
        Trainer.Settings settings;
        try {
            settings = new Trainer.Settings(f.integer(args, "args.num_train_epochs"), f.integer(args, "args.max_steps"),
                    f.integer(args, "args.train_batch_size"), f.integer(args, "args.gradient_accumulation_steps"),
                    f.number(args, "args.learning_rate"), f.number(args, "args.warmup_ratio"), f.number(args, "args.weight_decay"),
                    f.number(args, "args.max_grad_norm"), f.integer(args, "args.max_length"), f.longValue(args, "args.seed"),
                    f.number(args, "args.mlm_probability"));
        } catch (IllegalArgumentException e) {
            if (e.getMessage().startsWith(file.toString())) throw e;
            throw new IllegalArgumentException(file + ": field args: " + e.getMessage(), e);
        }
        List<Object> orderJson = f.array(data, "data.order");
        int[] order = new int[orderJson.size()];
        for (int i = 0; i < order.length; i++) order[i] = (int) f.asLong(orderJson.get(i), "data.order[" + i + "]");
        List<Double> losses = new ArrayList<>();
        List<Object> log = f.array(f.root, "log_history");
        for (int i = 0; i < log.size(); i++) {
            Map<String, Object> e = f.object(log.get(i), "log_history[" + i + "]");
            if (f.asLong(e.get("step"), "log_history[" + i + "].step") != i + 1) {
                throw new IllegalArgumentException(file + ": field log_history[" + i + "].step is " + e.get("step") + ", expected " + (i + 1));
            }
            losses.add(e.get("loss") == null && e.containsKey("loss") ? Double.NaN : f.number(e, "log_history[" + i + "].loss"));
        }
        List<Map<String, Object>> epochs = new ArrayList<>();
        List<Object> ep = f.array(f.root, "epochs");
        for (int i = 0; i < ep.size(); i++) epochs.add(f.object(ep.get(i), "epochs[" + i + "]"));
        TrainerState st = new TrainerState(f.string(f.root, "architecture"), f.integer(f.root, "global_step"), f.integer(pos, "position.epoch"),
                f.integer(pos, "position.micro_batches_done"), f.bool(pos, "position.epoch_finished"), f.integer(pos, "position.epoch_start_step"),
                f.integer(f.root, "max_steps"), f.integer(f.root, "num_train_epochs"), f.integer(sched, "scheduler.warmup_steps"), settings,
                f.integer(data, "data.train_examples"), f.string(data, "data.train_sha256"), order, f.string(f.root, "model_sha256"),
                losses, epochs, f.integer(args, "args.save_steps"), f.integer(args, "args.save_total_limit"));
        st.checkConsistent(file);
        return st;
    }

    /** Cross-field checks, so a hand-edited or truncated state is refused by name rather than misread. */
    private void checkConsistent(Path file) {
        if (losses.size() != globalStep) fail(file, "log_history", "has " + losses.size() + " step entries, but global_step is " + globalStep);
        if (globalStep > maxSteps) fail(file, "global_step", "is " + globalStep + ", past max_steps " + maxSteps);
        if (epoch < 1 || epoch > numEpochs) fail(file, "position.epoch", "is " + epoch + ", outside 1.." + numEpochs);
        if (epochStartStep < 0 || epochStartStep > globalStep) fail(file, "position.epoch_start_step", "is " + epochStartStep + ", outside 0.." + globalStep);
        if (microBatchesDone < 0) fail(file, "position.micro_batches_done", "is negative");
        if (order.length != trainExamples) fail(file, "data.order", "has " + order.length + " entries for " + trainExamples + " training examples");
        boolean[] seen = new boolean[order.length];
        for (int i : order) {
            if (i < 0 || i >= order.length || seen[i]) fail(file, "data.order", "is not a permutation of 0.." + (order.length - 1));
            seen[i] = true;
        }
    }

    static void fail(Path file, String field, String what) {
        throw new IllegalArgumentException(file + ": field " + field + " " + what);
    }

    private static Object parse(Path file) throws IOException {
        try {
            return Json.parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
        } catch (Json.JsonException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    /** Typed field access whose errors name the file and the field. */
    private record Fields(Path file, Map<String, Object> root) {
        private Object get(Map<String, Object> m, String path) {
            String key = path.substring(path.lastIndexOf('.') + 1);
            if (!m.containsKey(key)) fail(file, path, "is missing");
            return m.get(key);
        }

        Map<String, Object> object(Map<String, Object> m, String path) {
            return object(get(m, path), path);
        }

        Map<String, Object> object(Object v, String path) {
            try {
                return Json.asObject(v, path);
            } catch (Json.JsonException e) {
                throw new IllegalArgumentException(file + ": field " + path + " is not an object", e);
            }
        }

        List<Object> array(Map<String, Object> m, String path) {
            try {
                return Json.asArray(get(m, path), path);
            } catch (Json.JsonException e) {
                throw new IllegalArgumentException(file + ": field " + path + " is not an array", e);
            }
        }

        String string(Map<String, Object> m, String path) {
            try {
                return Json.asString(get(m, path), path);
            } catch (Json.JsonException e) {
                throw new IllegalArgumentException(file + ": field " + path + " is not a string", e);
            }
        }

        boolean bool(Map<String, Object> m, String path) {
            try {
                return Json.asBoolean(get(m, path), path);
            } catch (Json.JsonException e) {
                throw new IllegalArgumentException(file + ": field " + path + " is not true or false", e);
            }
        }

        double number(Map<String, Object> m, String path) {
            Object v = get(m, path);
            if (!(v instanceof Number n)) throw new IllegalArgumentException(file + ": field " + path + " is not a number");
            return n.doubleValue();
        }

        long asLong(Object v, String path) {
            try {
                return Json.asLong(v, path);
            } catch (Json.JsonException e) {
                throw new IllegalArgumentException(file + ": field " + path + " is not an integer", e);
            }
        }

        long longValue(Map<String, Object> m, String path) {
            return asLong(get(m, path), path);
        }

        int integer(Map<String, Object> m, String path) {
            long v = longValue(m, path);
            if (v < 0 || v > Integer.MAX_VALUE) fail(file, path, "is " + v + ", outside 0.." + Integer.MAX_VALUE);
            return (int) v;
        }
    }
}
