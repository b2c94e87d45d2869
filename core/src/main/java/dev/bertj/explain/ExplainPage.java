package dev.bertj.explain;

import dev.bertj.io.AtomicFiles;
import dev.bertj.report.Html;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Writes the explain page: {@code explain.html} (the sections and their headings) with
 * {@code explain.css} and {@code explain.js} inlined and {@link Explainer}'s data in
 * {@code <script type="application/json" id="bertj-data">}. One file, no network: the script
 * draws every view from that data.
 */
public final class ExplainPage {
    /** The id of the script element holding the data. */
    public static final String DATA_ID = "bertj-data";

    private ExplainPage() { }

    /** The page's HTML for {@code data}. */
    public static String html(Map<String, Object> data) {
        Object text = data.get("text");
        String title = "bertj explain: " + (text instanceof String s ? abbreviate(s) : "");
        return Html.fill(Html.resource(ExplainPage.class, "explain.html"),
                "title", Html.escape(title),
                "css", Html.resource(ExplainPage.class, "explain.css"),
                "data", Html.scriptJson(data),
                "js", Html.resource(ExplainPage.class, "explain.js"));
    }

    /** Writes {@code dir/index.html} (creating {@code dir}), atomically; returns its path. */
    public static Path write(Path dir, Map<String, Object> data) throws IOException {
        Files.createDirectories(dir);
        Path f = dir.resolve("index.html");
        AtomicFiles.writeString(f, html(data));
        return f;
    }

    private static String abbreviate(String s) {
        String one = s.strip().replaceAll("\\s+", " ");
        return one.length() <= 60 ? one : one.substring(0, 57) + "...";
    }
}
