package dev.bertj.serve;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The HTTP routes: TEI's {@code /embed}, {@code /predict}, {@code /tokenize}, {@code /v1/embeddings},
 * {@code /health}, {@code /info}, {@code /metrics}, and {@code /fill-mask}. One handler for all paths,
 * so that an unknown path is a JSON 404 too. Around every route: the API key, the method, the payload
 * limit and the concurrency limit (429 beyond it, never a wait); every answer, error or not, is counted
 * in {@link Metrics} by route and status. Nothing thrown reaches the client but a JSON error.
 */
final class Routes implements HttpHandler {
    private static final Logger LOG = Logger.getLogger(Routes.class.getName());
    private static final String JSON = "application/json";

    /** Each route and its method; anything else is counted as {@code other}, so labels stay few. */
    private static final Map<String, String> METHODS = Map.of(
            "/embed", "POST", "/predict", "POST", "/tokenize", "POST", "/fill-mask", "POST", "/v1/embeddings", "POST",
            "/health", "GET", "/info", "GET", "/metrics", "GET");

    private final EmbeddingService service;
    private final ServerConfig config;
    private final Metrics metrics;
    private final Semaphore permits;
    private final byte[] bearer;
    private volatile boolean stopping;

    Routes(EmbeddingService service, ServerConfig config) {
        this.service = service;
        this.config = config;
        this.metrics = service.metrics();
        this.permits = new Semaphore(config.maxConcurrentRequests());
        this.bearer = config.apiKey() == null ? null : ("Bearer " + config.apiKey()).getBytes(StandardCharsets.UTF_8);
        metrics.gauges(service.batcher()::queueDepth, () -> config.maxConcurrentRequests() - permits.availablePermits());
    }

    /** From now on /health answers 503, so that a load balancer stops sending work while requests in flight finish. */
    void stopping() {
        stopping = true;
    }

    @Override
    public void handle(HttpExchange ex) {
        long start = System.nanoTime();
        String path = ex.getRequestURI().getRawPath();
        String route = METHODS.containsKey(path) ? path : "other";
        int status;
        String type = JSON;
        String body;
        try {
            if (!route.equals("/health")) authorize(ex);
            String method = METHODS.get(path);
            if (method == null) throw new ServeException(ServeException.Type.NotFound, "no route " + abbreviate(path) + "; routes: "
                    + String.join(", ", METHODS.keySet().stream().sorted().toList()));
            if (!method.equals(ex.getRequestMethod())) {
                ex.getResponseHeaders().set("Allow", method);
                throw new ServeException(ServeException.Type.MethodNotAllowed, path + " takes " + method + ", not " + abbreviate(ex.getRequestMethod()));
            }
            if (method.equals("GET")) {
                switch (path) {
                    case "/health" -> {
                        if (stopping || !service.healthy()) throw new ServeException(ServeException.Type.Unhealthy, "the server is stopping");
                        body = "";
                    }
                    case "/info" -> body = Responses.info(service, config);
                    default -> {
                        body = metrics.prometheus();
                        type = "text/plain; version=0.0.4; charset=utf-8";
                    }
                }
            } else {
                byte[] in = readBody(ex);
                body = post(path, in);
            }
            status = 200;
        } catch (ServeException e) {
            status = e.type().status();
            body = Responses.error(e);
            if (e.type() == ServeException.Type.Unauthorized) ex.getResponseHeaders().set("WWW-Authenticate", "Bearer");
            if (e.getCause() != null) LOG.log(Level.FINE, route + ": " + e.getMessage(), e.getCause());
        } catch (Throwable t) {
            // A defect: the client gets a sentence, the log gets the stack trace.
            LOG.log(Level.SEVERE, "unexpected failure serving " + route, t);
            status = 500;
            body = Responses.error(new ServeException(ServeException.Type.Internal, "internal error serving " + route + " (the server's log has the details)"));
        }
        // Counted before the answer leaves: a client that reads /metrics right after its reply must see it.
        metrics.request(route, status, (System.nanoTime() - start) / 1e9);
        send(ex, status, type, body);
    }

    /** Parses, takes a permit (or answers 429), runs the route. */
    String post(String path, byte[] in) { // package-private: ServeRequestsFuzzTest drives it without a socket
        // Parse before taking a permit: a malformed request costs no concurrency, as in TEI.
        Object req = switch (path) {
            case "/embed" -> Requests.embed(in);
            case "/predict" -> Requests.predict(in);
            case "/tokenize" -> Requests.tokenize(in);
            case "/fill-mask" -> Requests.fillMask(in);
            default -> Requests.openAi(in);
        };
        if (!permits.tryAcquire()) {
            throw new ServeException(ServeException.Type.Overloaded, "model is overloaded: " + config.maxConcurrentRequests()
                    + " requests are being served (--max-concurrent-requests); retry later");
        }
        try {
            return switch (req) {
                case Requests.Embed r -> Responses.embeddings(service.embed(r.inputs(), r.normalize(), r.truncate(), "inputs").vectors());
                case Requests.Predict r -> Responses.predictions(service.predict(r.inputs(), r.rawScores(), r.truncate()), r.single());
                case Requests.Tokenize r -> Responses.tokens(service.tokenize(r.inputs(), r.addSpecialTokens()));
                case Requests.FillMask r -> Responses.fillMask(service.fillMask(r.inputs(), r.topK()), r.single());
                case Requests.OpenAiEmbeddings r -> {
                    if (r.dimensions() != null && r.dimensions() != service.dimensions()) {
                        throw ServeException.invalid("dimensions", "this model gives " + service.dimensions() + "-dimensional embeddings, got " + r.dimensions());
                    }
                    // OpenAI's vectors are unit length; TEI normalizes on this route too.
                    yield Responses.openAi(service.embed(r.input(), true, null, "input"), service.modelName(), r.base64());
                }
                default -> throw new IllegalStateException(req.getClass().getName());
            };
        } finally {
            permits.release();
        }
    }

    private void authorize(HttpExchange ex) {
        if (bearer == null) return;
        String h = ex.getRequestHeaders().getFirst("Authorization");
        // Constant-time comparison, so the key cannot be guessed byte by byte from response times.
        if (h == null || !MessageDigest.isEqual(bearer, h.getBytes(StandardCharsets.UTF_8))) {
            throw new ServeException(ServeException.Type.Unauthorized, h == null ? "missing Authorization: Bearer header (the server has an API key)"
                    : "wrong API key");
        }
    }

    /** The body, refusing more than the payload limit before reading it when Content-Length says so. */
    private byte[] readBody(HttpExchange ex) throws IOException {
        String cl = ex.getRequestHeaders().getFirst("Content-Length");
        long declared = -1;
        if (cl != null) {
            try {
                declared = Long.parseLong(cl.trim());
            } catch (NumberFormatException e) {
                declared = -1; // the JDK server has already refused a malformed Content-Length
            }
        }
        try (InputStream in = ex.getRequestBody()) {
            if (declared > config.payloadLimit()) {
                drain(in);
                throw tooLarge(declared);
            }
            byte[] body = in.readNBytes(config.payloadLimit() + 1);
            if (body.length > config.payloadLimit()) {
                drain(in);
                throw tooLarge(-1);
            }
            return body;
        }
    }

    /**
     * Reads and drops up to 16 MB of a refused body, so that a client still sending it reads our 413
     * instead of a reset connection; beyond that the JDK closes the connection.
     */
    private static void drain(InputStream in) throws IOException {
        byte[] buf = new byte[65536];
        long left = 16L << 20;
        for (int n; left > 0 && (n = in.read(buf, 0, (int) Math.min(buf.length, left))) > 0; ) left -= n;
    }

    private ServeException tooLarge(long declared) {
        return new ServeException(ServeException.Type.TooLarge, "body: payload of " + (declared >= 0 ? declared + " bytes" : "more bytes")
                + " exceeds the limit of " + config.payloadLimit() + " bytes (--payload-limit)");
    }

    private static void send(HttpExchange ex, int status, String type, String body) {
        try {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            if (bytes.length > 0) ex.getResponseHeaders().set("Content-Type", type);
            ex.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(bytes);
            }
        } catch (IOException e) {
            LOG.log(Level.FINE, "client went away before its answer", e); // nothing to answer to
        } finally {
            ex.close();
        }
    }

    private static String abbreviate(String s) {
        return s.length() > 100 ? s.substring(0, 100) + "..." : s;
    }
}
