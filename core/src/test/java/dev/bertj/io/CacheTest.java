package dev.bertj.io;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The launcher passes its cache as -Dbertj.cache; that wins over $BERTJ_CACHE and ~/.cache/bertj. */
class CacheTest {
    @Test
    void thePropertyComesFirst() {
        String before = System.getProperty(Cache.PROPERTY);
        try {
            System.setProperty(Cache.PROPERTY, "/some/cache");
            assertEquals(Path.of("/some/cache"), Cache.root());
            assertEquals(Path.of("/some/cache", "data", "spam-assassin", "emails.jsonl"), Cache.spamAssassinEmails());
            System.clearProperty(Cache.PROPERTY);
            String env = System.getenv("BERTJ_CACHE");
            Path expected = env != null && !env.isBlank() ? Path.of(env) : Path.of(System.getProperty("user.home"), ".cache", "bertj");
            assertEquals(expected, Cache.root());
        } finally {
            if (before == null) System.clearProperty(Cache.PROPERTY);
            else System.setProperty(Cache.PROPERTY, before);
        }
    }
}
