package dev.bertj.io;

import java.nio.file.Path;

/**
 * Where bertj keeps downloaded models and data: the system property {@code bertj.cache} (the
 * {@code ./bertj} launcher passes its own cache this way, so both sides agree), else
 * {@code $BERTJ_CACHE}, else {@code ~/.cache/bertj}.
 */
public final class Cache {
    /** The system property that names the cache directory. */
    public static final String PROPERTY = "bertj.cache";

    private Cache() { }

    /** The cache root. */
    public static Path root() {
        String prop = System.getProperty(PROPERTY);
        if (prop != null && !prop.isBlank()) return Path.of(prop);
        String env = System.getenv("BERTJ_CACHE");
        if (env != null && !env.isBlank()) return Path.of(env);
        return Path.of(System.getProperty("user.home"), ".cache", "bertj");
    }

    /** The SpamAssassin corpus as {@code scripts/fetch-spamassassin.sh} writes it. */
    public static Path spamAssassinEmails() {
        return root().resolve("data").resolve("spam-assassin").resolve("emails.jsonl");
    }
}
