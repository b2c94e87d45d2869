package dev.bertj.train;

import dev.bertj.io.AtomicFiles;
import dev.bertj.io.Json;
import dev.bertj.io.SafeTensors;
import dev.bertj.io.SafeTensorsWriter;
import dev.bertj.tensor.Tensor;
import dev.bertj.tokenizer.BertTokenizer;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The directories a training run writes into its output directory, laid out as HF's Trainer lays
 * them out: the latest model in {@code OUT/} itself and resumable checkpoints in
 * {@code OUT/checkpoint-<step>/}, each a model directory plus {@code optimizer.safetensors} (AdamW's
 * moments) and {@link TrainerState#FILE trainer_state.json}.
 *
 * <p><b>Crash safety.</b> A checkpoint is written whole into a temporary directory and renamed into
 * place ({@link AtomicFiles#writeDirectory}); an old one is renamed aside before it is deleted. So a
 * directory named exactly {@code checkpoint-<step>} is always complete, and a process killed at any
 * instant leaves at most a {@code checkpoint-<step>.tmp-<pid>-…} or {@code .old-<pid>-…} directory,
 * which {@link #resolve} never takes and the next run removes. The model in {@code OUT/} is replaced
 * file by file, each file atomically, with {@code config.json} (what makes a directory a model)
 * removed first and written last: a crash leaves either the previous model, the new one, or no
 * config.json, never a mix.
 */
public final class TrainingCheckpoints {
    /** AdamW's state inside a checkpoint. */
    public static final String OPTIMIZER_FILE = "optimizer.safetensors";
    static final String OPTIMIZER_FORMAT = "bertj-adamw-1";
    private static final Pattern CHECKPOINT = Pattern.compile("checkpoint-(\\d+)");
    private static final Pattern LEFTOVER = Pattern.compile("(?:checkpoint-\\d+|\\.model)\\.(?:tmp|old)-(\\d+)-[0-9a-f]+");
    private static final List<String> MODEL_FILES = List.of("model.safetensors", "vocab.txt", "tokenizer_config.json", "tokenizer.json");

    private TrainingCheckpoints() { }

    /**
     * The checkpoint to resume from: {@code dir} itself when it is a checkpoint (it has
     * trainer_state.json), else the newest complete {@code checkpoint-<step>} inside it (HF's
     * {@code resume_from_checkpoint=True}).
     *
     * @throws IllegalArgumentException in one sentence when there is none, or {@code dir} is an
     *     unfinished write or lacks one of a checkpoint's files
     */
    public static Path resolve(Path dir) throws IOException {
        String name = dir.toAbsolutePath().normalize().getFileName().toString();
        if (LEFTOVER.matcher(name).matches()) {
            throw new IllegalArgumentException(dir + " is the temporary directory of an unfinished or superseded checkpoint write, not a checkpoint");
        }
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException(dir + " is not a directory (--resume takes a checkpoint directory)");
        Path ckpt = Files.isRegularFile(dir.resolve(TrainerState.FILE)) ? dir : latest(dir);
        if (ckpt == null) {
            throw new IllegalArgumentException(dir + " is not a training checkpoint (no " + TrainerState.FILE
                    + ") and holds no checkpoint-<step> directory; train writes them with --out (and --save-steps)");
        }
        for (String f : List.of(TrainerState.FILE, OPTIMIZER_FILE, "model.safetensors", "config.json")) {
            if (!Files.isRegularFile(ckpt.resolve(f))) throw new IllegalArgumentException(ckpt + " is not a complete training checkpoint: it has no " + f);
        }
        return ckpt;
    }

    /** The newest complete {@code checkpoint-<step>} directory in {@code outputDir}, or null. */
    public static Path latest(Path outputDir) throws IOException {
        List<Path> all = checkpoints(outputDir);
        return all.isEmpty() ? null : all.getLast();
    }

    /** Complete checkpoints ({@code checkpoint-<step>} with trainer_state.json) in {@code outputDir}, oldest step first. */
    static List<Path> checkpoints(Path outputDir) throws IOException {
        if (!Files.isDirectory(outputDir)) return List.of();
        try (Stream<Path> s = Files.list(outputDir)) {
            return s.filter(p -> CHECKPOINT.matcher(p.getFileName().toString()).matches())
                    .filter(p -> Files.isRegularFile(p.resolve(TrainerState.FILE)))
                    .sorted(Comparator.comparingLong(TrainingCheckpoints::stepOf))
                    .toList();
        }
    }

    private static long stepOf(Path p) {
        Matcher m = CHECKPOINT.matcher(p.getFileName().toString());
        if (!m.matches()) throw new IllegalArgumentException(p + " is not a checkpoint-<step> directory");
        String digits = m.group(1);
        return digits.length() > 18 ? Long.MAX_VALUE : Long.parseLong(digits);
    }

    /**
     * Refuses an output directory that holds anything but bertj's own output (a model, checkpoints,
     * metrics.json), before hours of training, since models and checkpoints are written there.
     */
    public static void checkOutputDir(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        if (!Files.isDirectory(dir)) throw new NotDirectoryException(dir + " exists and is not a directory");
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> entries = s.toList();
            boolean ours = entries.isEmpty() || entries.stream().anyMatch(p -> {
                String n = p.getFileName().toString();
                return n.equals("config.json") || n.equals("metrics.json") || CHECKPOINT.matcher(n).matches() || LEFTOVER.matcher(n).matches();
            });
            if (!ours) {
                throw new DirectoryNotEmptyException(dir + " is neither empty nor a bertj output directory (no config.json, metrics.json"
                        + " or checkpoint-<step>); train writes its model there, so it refuses a directory holding other files");
            }
        }
    }

    /**
     * Writes checkpoint {@code OUT/checkpoint-<step>} atomically: the model's files, the optimizer's
     * state and the trainer state, then deletes the oldest complete checkpoints beyond {@code keep}
     * (0 keeps all). Returns the checkpoint directory.
     */
    static Path write(Path outputDir, TrainableModel model, BertTokenizer tokenizer, Path tokenizerJson, AdamW optimizer,
                      TrainerState state, int keep) throws IOException {
        Path dir = outputDir.resolve("checkpoint-" + state.globalStep());
        long pauseMs = pauseMs(state.globalStep());
        AtomicFiles.writeDirectory(dir, tmp -> {
            model.writeFiles(tmp, tokenizer, tokenizerJson);
            // A test aid: holds this write half done, so a crash test's SIGKILL lands inside it
            // rather than racing a write that takes milliseconds.
            if (pauseMs > 0) sleep(pauseMs);
            writeOptimizer(tmp.resolve(OPTIMIZER_FILE), optimizer);
            state.writeTo(tmp);
        });
        if (keep > 0) {
            List<Path> all = checkpoints(outputDir);
            for (int i = 0; i < all.size() - keep; i++) {
                if (!all.get(i).equals(dir)) delete(all.get(i));
            }
        }
        return dir;
    }

    /**
     * The pause asked for by {@code -Dbertj.checkpoint.pause=STEP:MS} (a test aid for crash tests):
     * MS milliseconds in the middle of writing checkpoint STEP, after the model files and before the
     * optimizer and trainer state; 0 for any other step or without the property.
     */
    static long pauseMs(int step) {
        String p = System.getProperty("bertj.checkpoint.pause");
        if (p == null) return 0;
        String[] parts = p.split(":");
        try {
            return parts.length == 2 && Integer.parseInt(parts[0]) == step ? Long.parseLong(parts[1]) : 0;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("-Dbertj.checkpoint.pause must be STEP:MILLISECONDS, got " + p, e);
        }
    }

    /** Renames a checkpoint aside before deleting it, so a crash mid-delete never leaves a half checkpoint under its name. */
    private static void delete(Path checkpoint) throws IOException {
        Path aside = checkpoint.resolveSibling(checkpoint.getFileName() + ".old-" + tag());
        Files.move(checkpoint, aside, StandardCopyOption.ATOMIC_MOVE);
        AtomicFiles.deleteTree(aside);
    }

    /** Removes the temporary directories of writes whose process is gone (killed mid-write); says so on {@code log}. */
    static void removeLeftovers(Path outputDir, PrintStream log) throws IOException {
        if (!Files.isDirectory(outputDir)) return;
        List<Path> stale = new ArrayList<>();
        try (Stream<Path> s = Files.list(outputDir)) {
            for (Path p : s.toList()) {
                Matcher m = LEFTOVER.matcher(p.getFileName().toString());
                if (!m.matches() || !Files.isDirectory(p)) continue;
                long pid = Long.parseLong(m.group(1));
                if (pid != ProcessHandle.current().pid() && ProcessHandle.of(pid).isEmpty()) stale.add(p);
            }
        }
        for (Path p : stale) {
            AtomicFiles.deleteTree(p);
            if (log != null) log.println("bertj train: removed " + p.getFileName() + ", left by an interrupted write");
        }
    }

    /**
     * Saves the model into {@code outDir} beside its checkpoints (so not as one directory swap, which
     * would take the checkpoints with it): see the class comment for the order that keeps it safe.
     */
    public static void saveModel(Path outDir, TrainableModel model, BertTokenizer tokenizer, Path tokenizerJson) throws IOException {
        Path dir = outDir.toAbsolutePath().normalize();
        checkOutputDir(dir);
        Files.createDirectories(dir);
        Path tmp = dir.resolve(".model.tmp-" + tag());
        Files.createDirectory(tmp);
        try {
            model.writeFiles(tmp, tokenizer, tokenizerJson);
            List<String> names;
            try (Stream<Path> s = Files.list(tmp)) {
                names = s.map(p -> p.getFileName().toString()).sorted().toList();
            }
            for (String n : names) AtomicFiles.force(tmp.resolve(n));
            Files.deleteIfExists(dir.resolve("config.json"));
            AtomicFiles.force(dir);
            for (String n : MODEL_FILES) if (!names.contains(n)) Files.deleteIfExists(dir.resolve(n));
            for (String n : names) {
                if (!n.equals("config.json")) Files.move(tmp.resolve(n), dir.resolve(n), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
            AtomicFiles.force(dir);
            Files.move(tmp.resolve("config.json"), dir.resolve("config.json"), StandardCopyOption.ATOMIC_MOVE);
            AtomicFiles.force(dir);
        } finally {
            AtomicFiles.deleteTree(tmp);
        }
    }

    // ---- optimizer.safetensors ----------------------------------------------------------------

    /**
     * AdamW's state as safetensors: {@code <parameter>.exp_avg} and {@code <parameter>.exp_avg_sq}
     * (PyTorch's state names) in the parameter's shape, and in the metadata the optimizer's step count
     * and each parameter's own step (PyTorch's {@code state['step']}).
     */
    static void writeOptimizer(Path file, AdamW optimizer) throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, Object> steps = new LinkedHashMap<>();
        Map<String, Tensor> params = optimizer.params();
        optimizer.state().forEach((name, s) -> {
            int[] shape = params.get(name).shape();
            tensors.put(name + ".exp_avg", new Tensor(s.expAvg(), shape));
            tensors.put(name + ".exp_avg_sq", new Tensor(s.expAvgSq(), shape));
            steps.put(name, (long) s.step());
        });
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", OPTIMIZER_FORMAT);
        meta.put("step_count", Integer.toString(optimizer.stepCount()));
        meta.put("param_steps", Json.write(steps));
        SafeTensorsWriter.write(file, tensors, meta);
    }

    /**
     * Restores AdamW's state from {@code dir/optimizer.safetensors} into {@code optimizer}.
     *
     * @throws IllegalArgumentException naming the file and the tensor or field that does not fit the
     *     optimizer's parameters (a state from another model)
     */
    static void readOptimizer(Path dir, AdamW optimizer) throws IOException {
        Path file = dir.resolve(OPTIMIZER_FILE);
        Map<String, Tensor> params = optimizer.params();
        try (SafeTensors st = SafeTensors.open(AtomicFiles.requireFile(file, "missing checkpoint file"))) {
            Map<String, String> meta = st.metadata();
            if (!OPTIMIZER_FORMAT.equals(meta.get("format"))) {
                throw new IllegalArgumentException(file + ": metadata field format is " + meta.get("format") + ", expected " + OPTIMIZER_FORMAT);
            }
            int stepCount = metaInt(file, meta, "step_count");
            Map<String, Object> steps;
            try {
                steps = Json.asObject(Json.parse(String.valueOf(meta.get("param_steps")), file + " metadata param_steps"), "param_steps");
            } catch (Json.JsonException e) {
                throw new IllegalArgumentException(file + ": metadata field param_steps is not a JSON object of steps", e);
            }
            for (String name : st.names()) {
                String param = name.endsWith(".exp_avg") ? name.substring(0, name.length() - 8)
                        : name.endsWith(".exp_avg_sq") ? name.substring(0, name.length() - 11) : null;
                if (param == null || !params.containsKey(param)) {
                    throw new IllegalArgumentException(file + ": tensor " + name + " is not the exp_avg or exp_avg_sq of a parameter of this model");
                }
                if (!steps.containsKey(param)) throw new IllegalArgumentException(file + ": tensor " + name + " has no step in metadata field param_steps");
            }
            Map<String, AdamW.ParamState> state = new LinkedHashMap<>();
            for (Map.Entry<String, Object> e : steps.entrySet()) {
                Tensor p = params.get(e.getKey());
                if (p == null) throw new IllegalArgumentException(file + ": metadata field param_steps names " + e.getKey() + ", not a parameter of this model");
                long step;
                try {
                    step = Json.asLong(e.getValue(), e.getKey());
                } catch (Json.JsonException x) {
                    throw new IllegalArgumentException(file + ": metadata field param_steps." + e.getKey() + " is not an integer", x);
                }
                if (step < 0 || step > stepCount) {
                    throw new IllegalArgumentException(file + ": metadata field param_steps." + e.getKey() + " is " + step + ", outside 0.." + stepCount);
                }
                state.put(e.getKey(), new AdamW.ParamState((int) step, moment(st, file, e.getKey() + ".exp_avg", p),
                        moment(st, file, e.getKey() + ".exp_avg_sq", p)));
            }
            optimizer.loadState(stepCount, state);
        }
    }

    private static float[] moment(SafeTensors st, Path file, String name, Tensor param) {
        if (!st.contains(name)) throw new IllegalArgumentException(file + ": tensor " + name + " is missing");
        Tensor t = st.load(name);
        if (!t.hasShape(param.shape())) {
            throw new IllegalArgumentException(file + ": tensor " + name + " has shape " + java.util.Arrays.toString(t.shape())
                    + ", the parameter " + java.util.Arrays.toString(param.shape()));
        }
        return t.data();
    }

    private static int metaInt(Path file, Map<String, String> meta, String key) {
        try {
            int v = Integer.parseInt(String.valueOf(meta.get(key)));
            if (v < 0) throw new NumberFormatException();
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(file + ": metadata field " + key + " is " + meta.get(key) + ", not a step count", e);
        }
    }

    // ---- small helpers ------------------------------------------------------------------------

    private static String tag() {
        return ProcessHandle.current().pid() + "-" + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 16);
    }

    private static void sleep(long ms) throws IOException {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

}
