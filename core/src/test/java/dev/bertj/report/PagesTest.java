package dev.bertj.report;

import dev.bertj.explain.ExplainPage;
import dev.bertj.io.Json;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pages' HTML without a browser: embedded data survives hostile text, and the report holds every series. */
class PagesTest {
    @Test
    void explainDataCannotCloseItsScriptElementAndReadsBackEqual() {
        Map<String, Object> data = new LinkedHashMap<>();
        String text = "</script><script>alert(1)</script><!-- {{js}} $1 \u2028";
        data.put("text", text);
        data.put("tokens", List.of("[CLS]", "</script>", "[SEP]"));
        data.put("attentions", List.of());
        String html = ExplainPage.html(data);
        // The template's two script elements, no more: the text cannot open or close one.
        assertEquals(2, html.split("</script>", -1).length - 1);
        Matcher m = Pattern.compile("<script type=\"application/json\" id=\"" + ExplainPage.DATA_ID + "\">(.*?)</script>", Pattern.DOTALL).matcher(html);
        assertTrue(m.find(), "the data element");
        assertEquals(text, Json.asObject(Json.parse(m.group(1)), "data").get("text"));
        assertTrue(html.contains("<title>bertj explain: &lt;/script&gt;"), "the title is escaped");
        for (String mark : List.of("{{title}}", "{{css}}", "{{data}}")) assertFalse(html.contains(mark), "the template's " + mark + " is filled");
        assertTrue(html.contains("'use strict'"), "the script is inlined");
        for (String view : List.of("Tokens", "Head view", "Model view", "Hidden states", "Gradient norms", "Saliency", "Prediction")) {
            assertTrue(html.contains("<h2>" + view), "a heading for " + view);
        }
    }

    @Test
    void trainingReportDrawsEveryStepAndTheConfusionMatrix() {
        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("task", "classification");
        metrics.put("labels", List.of("ham", "spam"));
        List<Object> log = new ArrayList<>();
        for (int i = 1; i <= 5; i++) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("step", (long) i);
            e.put("loss", 1.0 / i);
            e.put("learning_rate", 1e-4 * i);
            e.put("grad_norm", i == 1 ? null : 2.0 * i);
            log.add(e);
        }
        metrics.put("log_history", log);
        metrics.put("max_grad_norm", 1.0);
        Map<String, Object> val = new LinkedHashMap<>();
        val.put("accuracy", 0.7);
        val.put("f1", 0.5);
        val.put("loss", 0.6);
        val.put("confusion_matrix", List.of(List.of(6L, 1L), List.of(2L, 1L)));
        val.put("count", 10L);
        metrics.put("epochs", List.of(Map.of("epoch", 1L, "train_loss", 0.5, "validation", val)));
        String html = TrainingReport.html(metrics);
        assertEquals(5, points(html, "loss (raw)"), "a raw loss point per step");
        assertEquals(5, points(html, "loss (smoothed)"));
        assertEquals(5, points(html, "learning rate"));
        assertEquals(4, points(html, "gradient norm"), "the step without a norm is a gap");
        assertTrue(html.contains("title=\"true spam, predicted ham: 2 of 3 (66.7%)\">2</td>"), "a labelled, numbered confusion cell");
        assertTrue(html.contains("<title>loss (raw) at step 2: 0.5</title>"), "numeric tooltips");
        assertFalse(html.contains("<script"), "the report needs no script");
        for (String h : List.of("Training loss", "Learning rate", "Gradient norm before clipping", "Validation metrics per epoch", "Confusion matrix")) {
            assertTrue(html.contains("<h2>" + h + "</h2>"), h);
        }
    }

    /** Number of points of the named series' polylines. */
    private static int points(String html, String series) {
        Matcher m = Pattern.compile("data-series=\"" + Pattern.quote(series) + "\"[^>]*points=\"([^\"]*)\"").matcher(html);
        int n = 0;
        while (m.find()) n += m.group(1).strip().split(" ").length;
        return n;
    }
}
