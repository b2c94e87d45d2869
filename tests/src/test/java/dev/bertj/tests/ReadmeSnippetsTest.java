package dev.bertj.tests;

import org.junit.jupiter.api.Test;

import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.ToolProvider;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every Java snippet in the README compiles against bertj (core, langchain4j, cuda): a snippet that
 * is a whole file compiles as it is; any other is its import lines, then statements that compile as a
 * method body declared {@code throws IOException} (so a snippet cannot lean on undeclared variables
 * or hide a checked exception). The two example programs are quoted verbatim from the files the
 * consumer test builds and runs. Spark snippets are the spark module's (ReadmeSparkExampleTest).
 */
class ReadmeSnippetsTest {
    private static final Path README = Path.of("../README.md");
    private static final Pattern BLOCK = Pattern.compile("```java\n(.*?)```", Pattern.DOTALL);
    private static final Pattern PUBLIC_CLASS = Pattern.compile("(?m)^public class (\\w+)");

    private record Source(String name, String code, int line) { }

    @Test
    void everyJavaSnippetCompiles() throws Exception {
        String readme = Files.readString(README);
        List<Source> sources = new ArrayList<>();
        Matcher m = BLOCK.matcher(readme);
        while (m.find()) {
            String block = m.group(1);
            // Spark programs need Spark on the class path: the spark module's ReadmeSparkExampleTest checks
            // them (quoted from a file it compiles, and run in its local[2] session).
            if (block.contains("import org.apache.spark.")) continue;
            int line = 1 + (int) readme.substring(0, m.start()).chars().filter(c -> c == '\n').count();
            Matcher cls = PUBLIC_CLASS.matcher(block);
            if (cls.find()) {
                sources.add(new Source(cls.group(1), block, line));
                continue;
            }
            StringBuilder imports = new StringBuilder(), body = new StringBuilder();
            boolean head = true;
            for (String l : block.split("\n", -1)) {
                if (head && (l.startsWith("import ") || l.isBlank())) imports.append(l).append('\n');
                else {
                    head = false;
                    body.append(l).append('\n');
                }
            }
            String name = "ReadmeSnippetAtLine" + line;
            sources.add(new Source(name, imports + "class " + name + " {\n    static void snippet() throws java.io.IOException {\n"
                    + body + "    }\n}\n", line));
        }
        assertTrue(sources.size() >= 7, "the README's Java snippets: " + sources.size());

        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        List<JavaFileObject> units = new ArrayList<>();
        for (Source s : sources) {
            units.add(new SimpleJavaFileObject(URI.create("string:///README.md-line-" + s.line() + "/" + s.name() + ".java"), JavaFileObject.Kind.SOURCE) {
                @Override
                public CharSequence getCharContent(boolean ignoreEncodingErrors) {
                    return s.code();
                }
            });
        }
        Path out = Files.createTempDirectory("bertj-readme-snippets");
        boolean ok = javac.getTask(null, null, diagnostics, List.of("-d", out.toString(), "-proc:none", "--release", "25",
                "-classpath", System.getProperty("java.class.path")), null, units).call();
        StringBuilder errors = new StringBuilder();
        for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
            if (d.getKind() == Diagnostic.Kind.ERROR) {
                errors.append(d.getSource() == null ? "" : d.getSource().getName()).append(':').append(d.getLineNumber()).append(": ")
                        .append(d.getMessage(null)).append('\n');
            }
        }
        assertTrue(ok && errors.isEmpty(), "README snippets that do not compile (line = the block's line in README.md; "
                + "the number after it, the line in the wrapped source):\n" + errors);
    }

    @Test
    void theExampleProgramsAreQuotedFromTheFilesTheConsumerTestRuns() throws Exception {
        String readme = Files.readString(README);
        for (String f : new String[] {"langchain4j/src/it/consumer-core/src/main/java/example/EmbedExample.java",
                "langchain4j/src/it/consumer-langchain4j/src/main/java/example/LangChain4jExample.java"}) {
            String code = Files.readString(Path.of("..").resolve(f));
            assertTrue(readme.contains("```java\n" + code + "```"), "README.md quotes " + f + " verbatim");
        }
    }
}
