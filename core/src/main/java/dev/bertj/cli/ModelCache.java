package dev.bertj.cli;

import dev.bertj.api.ModelResolver;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The command line's view of {@link ModelResolver}: model names resolve as in Java code, with
 * conversion progress on stderr.
 */
final class ModelCache {
    static final String DEFAULT = ModelResolver.DEFAULT;
    static final String BERT_BASE = ModelResolver.BERT_BASE_UNCASED;

    private ModelCache() { }

    static Path root() {
        return ModelResolver.cacheRoot();
    }

    static String describe() {
        return "-Dbertj.cache, else $BERTJ_CACHE, else ~/.cache/bertj";
    }

    /** A model or tokenizer path as users write it: a path, {@code default} or {@code bert-base-uncased}. */
    static Path resolve(String nameOrPath) throws IOException {
        return ModelResolver.resolve(nameOrPath, System.err);
    }
}
