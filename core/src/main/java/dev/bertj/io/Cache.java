package dev.bertj.io;

import java.nio.file.Path;

/** Where bertj keeps downloaded models and data: {@code $BERTJ_CACHE}, else {@code ~/.cache/bertj}. */
public final class Cache {
    private Cache() { }

    /** The cache root. */
    public static Path root() {
        String env = System.getenv("BERTJ_CACHE");
        if (env != null && !env.isBlank()) return Path.of(env);
        return Path.of(System.getProperty("user.home"), ".cache", "bertj");
    }

    /** The SpamAssassin corpus as {@code scripts/fetch-spamassassin.sh} writes it. */
    public static Path spamAssassinEmails() {
        return root().resolve("data").resolve("spam-assassin").resolve("emails.jsonl");
    }
}
