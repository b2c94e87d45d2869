package dev.bertj.cli;

import dev.bertj.io.Json;
import dev.bertj.io.Npy;
import dev.bertj.model.BertClassifier;
import dev.bertj.model.BertConfig;
import dev.bertj.model.CustomHeadConfig;
import dev.bertj.model.BertForSequenceClassification;
import dev.bertj.model.BertModel;
import dev.bertj.model.ClassifierOutput;
import dev.bertj.model.TrainMode;
import dev.bertj.nn.Gradients;
import dev.bertj.tokenizer.Batch;
import dev.bertj.tokenizer.BertTokenizer;
import dev.bertj.tokenizer.DataCollatorWithPadding;
import dev.bertj.train.Checkpoint;
import dev.bertj.train.Metrics;
import dev.bertj.train.TaskModel;
import dev.bertj.train.Trainer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** {@code ./bertj train}: fine-tune a classifier and save a checkpoint HF can load. */
final class TrainCommand implements Command {
    @Override
    public String name() {
        return "train";
    }

    @Override
    public String summary() {
        return "fine-tune a classifier (HF-loadable checkpoint, metrics.json)";
    }

    @Override
    public String help() {
        return """
                Usage: ./bertj train --model DIR|default --train FILE [--validation FILE] [--test FILE]
                         [--labels a,b,...] [--head sequence-classification|custom] [--pooling pooler|cls|mean]
                         [--ff-dim N] [--epochs N] [--max-steps N] [--batch-size B] [--lr X] [--warmup-ratio X]
                         [--weight-decay X] [--grad-clip X] [--max-length N] [--dropout P] [--seed S]
                         [--gradient-accumulation N] [--out DIR] [--dump-grads DIR]

                Files are JSON Lines: {"text": ..., "label": ...} with an optional "text_pair"; a label is
                a name or an id. Defaults are HF Trainer's for BERT: lr 2e-5, batch 32, warmup 0.1, weight
                decay 0.01, grad clip 1.0, max length 128, seed 42, 3 epochs.

                  --head           a new head when the model has none: sequence-classification (HF's
                                   BertForSequenceClassification, default) or custom (the notebook's head);
                                   a model directory that already has a head keeps it
                  --pooling        custom head features: pooler (default), cls, or mean (over real tokens)
                  --ff-dim         custom head hidden size (default 256)
                  --labels         label names in id order (default: the model's id2label, else the
                                   sorted names found in --train)
                  --dropout P      overrides every dropout of the config
                  --out DIR        checkpoint (model.safetensors, config.json, tokenizer files), written
                                   atomically after each epoch, and metrics.json (per-epoch train loss and
                                   validation metrics, test metrics, wall time)
                  --dump-grads DIR forward and backward on the first --batch-size examples of --train in file
                                   order (padded to the longest, mean cross-entropy), writes every parameter's
                                   gradient as DIR/<checkpoint name>.npy and the loss as DIR/loss.npy, and
                                   exits without an optimizer step. Use --dropout 0 to compare with autograd.
                --device cpu|cuda|cuda:N runs the model on that device (the GPU backend bertj-cuda; ./bertj
                adds it); --precision fp32|tf32|bf16 picks the GPU's matrix-product arithmetic (default fp32).
                """;
    }

    @Override
    public int run(String[] argv, BufferedReader in, PrintStream out, PrintStream err) throws Exception {
        Args a = new Args(name(), argv, Args.withDevice(Set.of("model", "train", "validation", "test", "labels", "head", "pooling", "ff-dim",
                "epochs", "max-steps", "batch-size", "lr", "warmup-ratio", "weight-decay", "grad-clip", "max-length", "dropout",
                "seed", "out", "dump-grads", "gradient-accumulation")), Set.of());
        var device = a.device();
        long started = System.nanoTime();
        Path dir = ModelCache.resolve(a.require("model"));
        Path trainFile = Path.of(a.require("train"));
        if (!a.has("out") && !a.has("dump-grads")) throw new Args.UsageException("train: --out DIR is required (or --dump-grads DIR)");
        Trainer.Settings d = Trainer.Settings.defaults();
        Trainer.Settings s = new Trainer.Settings(a.intValue("epochs", d.epochs(), 1), a.intValue("max-steps", 0, 0),
                a.intValue("batch-size", d.batchSize(), 1), a.intValue("gradient-accumulation", 1, 1), dbl(a, "lr", d.lr()),
                dbl(a, "warmup-ratio", d.warmupRatio()), dbl(a, "weight-decay", d.weightDecay()), dbl(a, "grad-clip", d.gradClip()),
                a.intValue("max-length", d.maxLength(), 2), a.has("seed") ? Long.parseLong(a.get("seed")) : d.seed());

        BertTokenizer tok = BertTokenizer.fromPretrained(dir);
        Checkpoint.HeadKind kind = Checkpoint.headKind(dir);
        BertConfig base = BertConfig.read(dir.resolve("config.json"));
        List<Map<String, Object>> trainRows = readJsonl(trainFile);
        List<String> labels = labels(a, base, trainRows, trainFile);
        Map<String, Integer> ids = new LinkedHashMap<>();
        for (int i = 0; i < labels.size(); i++) ids.put(labels.get(i), i);
        List<Trainer.Example> train = examples(trainRows, ids, trainFile);

        TaskModel model;
        Float dropout = a.has("dropout") ? (float) dbl(a, "dropout", 0) : null;
        if (kind == Checkpoint.HeadKind.CUSTOM) {
            BertClassifier m = Checkpoint.loadClassifier(dir);
            if (dropout != null) m = withDropout(m, dropout, s.seed());
            model = TaskModel.of(m);
        } else if (kind == Checkpoint.HeadKind.SEQUENCE_CLASSIFICATION && dropout == null) {
            BertForSequenceClassification m = Checkpoint.loadSequenceClassification(dir);
            model = TaskModel.of(m);
        } else {
            BertModel encoder = BertModel.fromPretrained(dir);
            BertConfig c = encoder.config().withLabels(labels);
            if (dropout != null) c = c.with("hidden_dropout_prob", dropout).with("attention_probs_dropout_prob", dropout).with("classifier_dropout", dropout);
            String head = kind == Checkpoint.HeadKind.SEQUENCE_CLASSIFICATION ? "sequence-classification"
                    : a.has("head") ? a.get("head") : "sequence-classification";
            Map<String, dev.bertj.tensor.Tensor> weights = new LinkedHashMap<>(encoder.parameters());
            if (kind == Checkpoint.HeadKind.SEQUENCE_CLASSIFICATION) {
                Checkpoint.loadSequenceClassification(dir).parameters().forEach((k, v) -> weights.put(k.startsWith("bert.") ? k.substring(5) : k, v));
            }
            switch (head) {
                case "sequence-classification" -> {
                    BertForSequenceClassification m = BertForSequenceClassification.of(
                            c.with("architectures", List.of("BertForSequenceClassification")), weights, labels.size(), s.seed());
                    model = TaskModel.of(m);
                }
                case "custom" -> {
                    String pooling = a.has("pooling") ? a.get("pooling") : "pooler";
                    if (!List.of("pooler", "cls", "mean").contains(pooling)) {
                        throw new Args.UsageException("train: --pooling must be pooler, cls or mean, got '" + pooling + "'");
                    }
                    CustomHeadConfig hc = new CustomHeadConfig(a.intValue("ff-dim", 256, 1), labels.size(),
                            dropout != null ? dbl(a, "dropout", 0) : Double.parseDouble(Float.toString(c.hiddenDropoutProb())), switch (pooling) {
                                case "cls" -> BertClassifier.Pooling.CLS_ONLY;
                                case "mean" -> BertClassifier.Pooling.AVERAGE_ALL;
                                default -> BertClassifier.Pooling.POOLER;
                            });
                    BertConfig cc = hc.apply(c.with("architectures", List.of("BertClassifier")));
                    BertClassifier m = BertClassifier.of(BertModel.of(cc, weights, s.seed()), Map.of(), s.seed());
                    model = TaskModel.of(m);
                }
                default -> throw new Args.UsageException("train: --head must be sequence-classification or custom, got '" + head + "'");
            }
        }
        model.to(device);
        if (model.numLabels() != labels.size()) {
            throw new IllegalArgumentException(dir + " has a head with " + model.numLabels() + " classes but the labels are " + labels);
        }

        Trainer trainer = new Trainer(model, tok, s, err);
        if (a.has("dump-grads")) return dumpGrads(trainer, model, train, s, tok, Path.of(a.get("dump-grads")), out);

        Path outDir = Path.of(a.get("out"));
        List<Trainer.Example> validation = a.has("validation") ? examples(readJsonl(Path.of(a.get("validation"))), ids, Path.of(a.get("validation"))) : null;
        List<Trainer.Example> test = a.has("test") ? examples(readJsonl(Path.of(a.get("test"))), ids, Path.of(a.get("test"))) : null;
        Map<String, Object> metrics = new LinkedHashMap<>();
        List<Object> epochs = new ArrayList<>();
        metrics.put("labels", labels);
        metrics.put("epochs", epochs);
        Path tokenizerJson = Files.isRegularFile(dir.resolve("tokenizer.json")) ? dir.resolve("tokenizer.json") : null;
        trainer.train(train, validation, (epoch, trainLoss, val) -> {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("epoch", (long) epoch);
            e.put("train_loss", trainLoss);
            if (val != null) e.put("validation", val.toJson());
            epochs.add(e);
            model.save(outDir, tok, tokenizerJson);
            err.println("bertj train: checkpoint saved to " + outDir);
        });
        if (test != null) {
            Metrics tm = trainer.evaluate(test);
            metrics.put("test", tm.toJson());
            out.printf("test: accuracy %.4f, f1 %.4f, loss %.4f on %d examples%n", tm.accuracy(), tm.f1(), tm.loss(), tm.count());
        }
        metrics.put("steps", (long) trainer.lossCurve().size());
        metrics.put("wall_time_s", (System.nanoTime() - started) / 1e9);
        Files.createDirectories(outDir);
        dev.bertj.io.AtomicFiles.writeString(outDir.resolve("metrics.json"), Json.writePretty(metrics) + "\n");
        out.println("wrote " + outDir.resolve("metrics.json"));
        return 0;
    }

    private static BertClassifier withDropout(BertClassifier m, float p, long seed) {
        BertConfig c = m.bert().config().with("hidden_dropout_prob", p).with("attention_probs_dropout_prob", p).with("classifier_dropout", p).with("ff_dropout", p);
        Map<String, dev.bertj.tensor.Tensor> all = m.parameters();
        return BertClassifier.of(BertModel.of(c, all, seed), all, seed);
    }

    private static int dumpGrads(Trainer trainer, TaskModel model, List<Trainer.Example> train, Trainer.Settings s,
                                 BertTokenizer tok, Path outDir, PrintStream out) throws IOException {
        List<Trainer.Example> first = train.subList(0, Math.min(s.batchSize(), train.size()));
        var enc = trainer.encode(first);
        List<DataCollatorWithPadding.Example> items = new ArrayList<>();
        for (int i = 0; i < first.size(); i++) items.add(new DataCollatorWithPadding.Example(enc.get(i), first.get(i).label()));
        Batch batch = new DataCollatorWithPadding(tok).collateExamples(items);
        Gradients g = new Gradients(model.backend());
        ClassifierOutput o = model.trainStep(batch, new TrainMode(s.seed(), 0, true), g);
        Files.createDirectories(outDir);
        int n = 0;
        for (Map.Entry<String, dev.bertj.tensor.Tensor> p : model.parameters().entrySet()) {
            float[] grad = g.asMap().get(p.getKey());
            if (grad == null) grad = new float[p.getValue().size()];
            Npy.writeFloat32(outDir.resolve(p.getKey() + ".npy"), grad, p.getValue().shape());
            n++;
        }
        Npy.writeFloat32(outDir.resolve("loss.npy"), new float[] {o.loss()});
        out.printf("wrote %d gradients and loss.npy (loss %.6f, batch [%d, %d]) to %s%n", n, o.loss(), batch.batchSize(), batch.seqLen(), outDir);
        return 0;
    }

    private static double dbl(Args a, String name, double dflt) {
        if (!a.has(name)) return dflt;
        try {
            return Double.parseDouble(a.get(name));
        } catch (NumberFormatException e) {
            throw new Args.UsageException("train: --" + name + " must be a number, got '" + a.get(name) + "'");
        }
    }

    static List<Map<String, Object>> readJsonl(Path file) throws IOException {
        List<Map<String, Object>> rows = new ArrayList<>();
        int line = 0;
        for (String l : Files.readAllLines(file)) {
            line++;
            if (l.isBlank()) continue;
            Object v;
            try {
                v = Json.parse(l, file + ":" + line);
            } catch (Json.JsonException e) {
                throw new IllegalArgumentException(e.getMessage(), e);
            }
            if (!(v instanceof Map<?, ?> m) || !(m.get("text") instanceof String)) {
                throw new IllegalArgumentException(file + ":" + line + ": expected {\"text\": ..., \"label\": ...}");
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> row = (Map<String, Object>) m;
            row.put("__line", (long) line);
            rows.add(row);
        }
        if (rows.isEmpty()) throw new IllegalArgumentException(file + ": no examples");
        return rows;
    }

    private static List<String> labels(Args a, BertConfig base, List<Map<String, Object>> rows, Path file) {
        if (a.has("labels")) return List.of(a.get("labels").split(","));
        if (!base.id2label().isEmpty() && base.architectures().stream().anyMatch(x -> String.valueOf(x).startsWith("Bert") && !"BertModel".equals(x))) {
            return new ArrayList<>(base.id2label().values());
        }
        TreeSet<String> names = new TreeSet<>();
        for (Map<String, Object> r : rows) {
            Object l = r.get("label");
            if (l == null) throw new IllegalArgumentException(file + ":" + r.get("__line") + ": no \"label\"");
            names.add(String.valueOf(l instanceof Number n ? n.longValue() : l));
        }
        return new ArrayList<>(names);
    }

    static List<Trainer.Example> examples(List<Map<String, Object>> rows, Map<String, Integer> ids, Path file) {
        List<Trainer.Example> out = new ArrayList<>();
        for (Map<String, Object> r : rows) {
            Object l = r.get("label");
            Integer id = l instanceof String name ? ids.get(name) : null;
            if (id == null && l instanceof Number n && n.longValue() >= 0 && n.longValue() < ids.size()) id = (int) n.longValue();
            if (id == null) id = ids.get(String.valueOf(l instanceof Number n ? n.longValue() : l));
            if (id == null) throw new IllegalArgumentException(file + ":" + r.get("__line") + ": unknown label " + l + " (labels: " + ids.keySet() + ")");
            Object pair = r.get("text_pair");
            out.add(new Trainer.Example((String) r.get("text"), pair instanceof String p ? p : null, id));
        }
        return out;
    }
}
