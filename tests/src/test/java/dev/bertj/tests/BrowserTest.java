package dev.bertj.tests;

import dev.bertj.io.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.WebDriverWait;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Level;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The explain page and the training report in a real browser: Debian's headless Chromium driven
 * by Selenium through Debian's chromedriver (.ci/run installs both). One browser serves every test.
 * Without the browser the tests are skipped, with the reason, never passed.
 *
 * <p>The explain page is a short-trained MiniLM classifier's, on a text padded to 64 tokens; the
 * report is that training run's. Screenshots go to {@code tests/target/screenshots/}; with
 * {@code -Dbertj.docs.screenshots=DIR} the README's screenshots are written to DIR as well.
 */
class BrowserTest {
    static final String CHROMIUM = "/usr/bin/chromium", DRIVER = "/usr/bin/chromedriver";
    static final int WIDTH = 1280, HEIGHT = 900;
    static WebDriver driver;
    static Path page, report, trained;
    static Map<String, Object> data;

    @BeforeAll
    static void start() throws Exception {
        for (String f : List.of(CHROMIUM, DRIVER)) {
            Assumptions.assumeTrue(Files.isExecutable(Path.of(f)), "headless Chromium is not installed here (" + f
                    + " is missing): install Debian's chromium and chromium-driver, as .ci/run does, to run the browser tests");
        }
        ChromeOptions o = new ChromeOptions();
        o.setBinary(CHROMIUM);
        o.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--hide-scrollbars",
                "--force-device-scale-factor=1", "--window-size=" + WIDTH + "," + HEIGHT);
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        o.setCapability("goog:loggingPrefs", logs);
        try {
            driver = new ChromeDriver(new ChromeDriverService.Builder().usingDriverExecutable(new File(DRIVER)).usingAnyFreePort().build(), o);
        } catch (RuntimeException e) {
            Assumptions.abort("headless Chromium did not start: " + e.getMessage().lines().findFirst().orElse(e.toString()));
        }
        driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(60)).scriptTimeout(Duration.ofSeconds(30));

        ModelCommandsTest.convert();
        Path sample = Files.createTempFile("bertj-sample", ".jsonl");
        try (var in = BrowserTest.class.getResourceAsStream("/spamassassin/sample.jsonl")) {
            Files.copy(in, sample, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        Path split = Files.createTempDirectory("bertj-data");
        assertEquals(0, TokenizeCommandTest.run("", "data", "spamassassin", "--corpus", sample.toString(), "--out", split.toString()).status());
        trained = Files.createTempDirectory("bertj-browser").resolve("model");
        TokenizeCommandTest.Result r = TokenizeCommandTest.run("", "train", "--model", ModelCommandsTest.dir.toString(),
                "--train", split.resolve("train.jsonl").toString(), "--validation", split.resolve("validation.jsonl").toString(),
                "--test", split.resolve("test.jsonl").toString(), "--max-steps", "12", "--batch-size", "8", "--max-length", "32",
                "--lr", "1e-4", "--out", trained.toString());
        assertEquals(0, r.status(), r.err());
        report = trained.resolve("report.html");
        page = ExplainCommandTest.explain(trained, "{\"text\": " + Json.write(ExplainCommandTest.TEXT) + ", \"label\": \"spam\"}\n", "--pad-to", "64");
        data = ExplainCommandTest.data(page);
    }

    @AfterAll
    static void stop() {
        if (driver != null) driver.quit();
    }

    /** Opens a page, waits for its script to finish, and checks the console has no error. */
    static void open(Path file, boolean scripted) {
        driver.get(file.toUri().toString());
        if (scripted) {
            new WebDriverWait(driver, Duration.ofSeconds(30)).until(d -> "true".equals(d.findElement(By.tagName("body")).getDomAttribute("data-ready")));
        }
        List<String> errors = driver.manage().logs().get(LogType.BROWSER).getAll().stream()
                .filter(e -> e.getLevel().intValue() >= Level.SEVERE.intValue()).map(LogEntry::getMessage).toList();
        assertEquals(List.of(), errors, "console errors on " + file.getFileName());
    }

    static Object js(String script, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(script, args);
    }

    static WebElement visible(String css) {
        WebElement e = driver.findElement(By.cssSelector(css));
        js("arguments[0].scrollIntoView({block: 'center'})", e);
        return e;
    }

    /** Lines the head view should draw: one per selected head, query and key whose weight exceeds the threshold. */
    static long expectedLines(int layer, List<Integer> heads, double threshold, Integer query) {
        List<Object> l = Json.asArray(Json.asArray(data.get("attentions"), "attentions").get(layer), "layer");
        long n = 0;
        for (int h : heads) {
            List<Object> rows = Json.asArray(l.get(h), "head");
            for (int q = 0; q < rows.size(); q++) {
                if (query != null && q != query) continue;
                for (Object w : Json.asArray(rows.get(q), "row")) if (Json.asDouble(w, "w") > threshold) n++;
            }
        }
        return n;
    }

    static String headView(String attribute) {
        return driver.findElement(By.id("head-view")).getDomAttribute(attribute);
    }

    static long lines(String selector) {
        return (Long) js("return document.querySelectorAll(arguments[0]).length", selector);
    }

    static List<Integer> heads() {
        return java.util.Arrays.stream(headView("data-heads").split(",")).map(Integer::parseInt).toList();
    }

    @Test
    void headViewDrawsOneLinePerWeightAboveTheThreshold() {
        open(page, true);
        int layer = Integer.parseInt(headView("data-layer"));
        double threshold = Double.parseDouble(headView("data-threshold"));
        long want = expectedLines(layer, heads(), threshold, null);
        System.err.printf("BrowserTest: head view layer %d, heads %s, threshold %s: %d lines%n", layer, heads(), threshold, want);
        assertTrue(want > 100, "the default view has lines to draw: " + want);
        assertEquals(want, lines("#head-view line.att"));
        // A higher threshold draws fewer lines, still one per weight above it.
        js("const t = arguments[0]; t.value = '0.3'; t.dispatchEvent(new Event('change'))", visible("#threshold"));
        assertEquals("0.3", headView("data-threshold"));
        assertEquals(expectedLines(layer, heads(), 0.3, null), lines("#head-view line.att"));
    }

    @Test
    void clickingAModelViewCellOpensItInTheHeadView() {
        open(page, true);
        String before = headView("data-layer") + "/" + headView("data-heads");
        visible("#model-view canvas[data-layer='3'][data-head='7']").click();
        assertEquals("3", headView("data-layer"));
        assertEquals("7", headView("data-heads"));
        assertTrue(!before.equals("3/7"), "the view changed: " + before);
        assertEquals(expectedLines(3, List.of(7), Double.parseDouble(headView("data-threshold")), null), lines("#head-view line.att"));
    }

    @Test
    void hoveringATokenChangesTheHighlightedRow() {
        open(page, true);
        for (int row : new int[] {2, 5}) {
            new Actions(driver).moveToElement(visible("#head-view text.hv-token.left[data-index='" + row + "']")).perform();
            assertEquals(String.valueOf(row), headView("data-focus"));
            @SuppressWarnings("unchecked")
            List<Object> focused = (List<Object>) js("return Array.from(document.querySelectorAll('#head-view text.focus')).map(t => t.getAttribute('data-index'))");
            assertEquals(List.of(String.valueOf(row)), focused, "exactly the hovered token is highlighted");
            int layer = Integer.parseInt(headView("data-layer"));
            long shown = lines("#head-view line.att:not(.hidden)");
            assertEquals(expectedLines(layer, heads(), Double.parseDouble(headView("data-threshold")), row), shown, "only row " + row + "'s lines show");
            assertEquals(0L, js("return Array.from(document.querySelectorAll('#head-view line.att:not(.hidden)'))"
                    + ".filter(l => l.getAttribute('data-q') !== arguments[0]).length", String.valueOf(row)));
        }
    }

    @Test
    void everyViewHasAHeadingAndEveryColourALegend() {
        open(page, true);
        for (String id : List.of("prediction", "saliency", "head-view-section", "model-view-section", "hidden", "gradients", "tokens")) {
            assertTrue(!driver.findElements(By.cssSelector("#" + id + " h2")).isEmpty(), "a heading in #" + id);
        }
        for (String id : List.of("saliency-legend", "model-legend", "hidden-norms-legend", "hidden-cosine-legend", "gradients-legend")) {
            assertTrue(driver.findElement(By.id(id)).getText().contains(":"), "legend #" + id + " is drawn");
        }
        String tip = driver.findElement(By.cssSelector("#saliency-text span.tok")).getDomAttribute("title");
        assertTrue(tip.matches(".*: -?[0-9.e+-]+"), "numeric tooltip: " + tip);
    }

    @Test
    void screenshotsHaveTheWindowsSizeAndAreNotBlank() throws Exception {
        Path dir = Path.of("target", "screenshots");
        Files.createDirectories(dir);
        open(page, true);
        check(screenshot(dir.resolve("explain.png")));
        open(report, false);
        long steps = Json.asArray(Json.asObject(Json.parse(Files.readString(trained.resolve("metrics.json"))), "metrics").get("log_history"), "log").size();
        assertEquals(steps, lines("#loss circle"), "a loss point per step");
        check(screenshot(dir.resolve("report.png")));
        String docs = System.getProperty("bertj.docs.screenshots");
        if (docs != null) docsScreenshots(Path.of(docs));
    }

    static BufferedImage screenshot(Path file) throws Exception {
        js("window.scrollTo(0, 0)");
        byte[] png = ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES);
        Files.write(file, png);
        return ImageIO.read(new ByteArrayInputStream(png));
    }

    static void check(BufferedImage img) {
        @SuppressWarnings("unchecked")
        List<Long> viewport = (List<Long>) js("return [Math.round(window.innerWidth * devicePixelRatio), Math.round(window.innerHeight * devicePixelRatio)]");
        assertEquals(viewport.get(0).intValue(), img.getWidth(), "screenshot width");
        assertEquals(viewport.get(1).intValue(), img.getHeight(), "screenshot height");
        assertEquals(WIDTH, img.getWidth());
        long ink = 0;
        Set<Integer> colours = new HashSet<>();
        for (int y = 0; y < img.getHeight(); y += 2) {
            for (int x = 0; x < img.getWidth(); x += 2) {
                int c = img.getRGB(x, y) & 0xffffff;
                colours.add(c);
                if (c != 0xffffff) ink++;
            }
        }
        double share = (double) ink / ((img.getWidth() / 2) * (img.getHeight() / 2));
        System.err.printf("BrowserTest: screenshot %dx%d, %.1f%% non-white, %d colours%n", img.getWidth(), img.getHeight(), 100 * share, colours.size());
        assertTrue(share > 0.02 && colours.size() > 20, "the screenshot is not blank: " + share + " non-white, " + colours.size() + " colours");
    }

    /** The README's screenshots: a short text's page (every view in one picture) and the report, at a taller window. */
    static void docsScreenshots(Path dir) throws Exception {
        Files.createDirectories(dir);
        Path shortPage = ExplainCommandTest.explain(trained, "{\"text\": \"WIN a FREE prize now!!! Click here to claim your money\", \"label\": \"spam\"}\n");
        driver.manage().window().setSize(new org.openqa.selenium.Dimension(WIDTH, 1500));
        open(shortPage, true);
        screenshot(dir.resolve("explain-minilm.png"));
        js("document.getElementById('model-view-section').scrollIntoView()");
        Files.write(dir.resolve("explain-minilm-views.png"), ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES));
        driver.manage().window().setSize(new org.openqa.selenium.Dimension(900, 2300));
        open(report, false);
        screenshot(dir.resolve("training-report.png"));
        driver.manage().window().setSize(new org.openqa.selenium.Dimension(WIDTH, HEIGHT));
    }
}
