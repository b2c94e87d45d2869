package dev.bertj.serve;

import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * {@code ./bertj serve}'s HTTP server: the JDK's {@code jdk.httpserver} (no HTTP parsing of bertj's
 * own) with one virtual thread per exchange, so a slow client costs a parked virtual thread and never
 * the inference loop, which only ever sees fully read, tokenized requests.
 *
 * <p>{@link #stop} is graceful: the listening socket closes, /health turns 503, requests in flight are
 * answered (their batches still run), then the inference loop drains and ends.
 */
public final class BertServer implements AutoCloseable {
    static {
        // Read once by the JDK's ServerConfig, so set before the first HttpServer exists; a -D given wins.
        // Without TCP_NODELAY small answers wait for the client's delayed ACK (Nagle): ~40 ms per request.
        setDefault("sun.net.httpserver.nodelay", "true");
        // A client has this long to send its headers and body; a slower one is disconnected.
        setDefault("sun.net.httpserver.maxReqTime", "60");
    }

    private final HttpServer http;
    private final ExecutorService threads;
    private final EmbeddingService service;
    private final Routes routes;
    private final ServerConfig config;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile boolean stopCalled;

    private BertServer(HttpServer http, ExecutorService threads, EmbeddingService service, Routes routes, ServerConfig config) {
        this.http = http;
        this.threads = threads;
        this.service = service;
        this.routes = routes;
        this.config = config;
    }

    private static void setDefault(String key, String value) {
        if (System.getProperty(key) == null) System.setProperty(key, value);
    }

    /**
     * Binds {@code config.host():config.port()} and starts serving {@code service}.
     *
     * @throws IOException if the address cannot be bound
     */
    public static BertServer start(EmbeddingService service, ServerConfig config) throws IOException {
        HttpServer http = HttpServer.create(new InetSocketAddress(config.host(), config.port()), 1024);
        ExecutorService threads = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("bertj-http-", 0).factory());
        Routes routes = new Routes(service, config);
        http.createContext("/", routes);
        http.setExecutor(threads);
        http.start();
        return new BertServer(http, threads, service, routes, config);
    }

    /** The bound port (the chosen one when the config said 0). */
    public int port() {
        return http.getAddress().getPort();
    }

    /** {@code http://host:port}. */
    public String url() {
        String host = config.host().contains(":") ? "[" + config.host() + "]" : config.host();
        return "http://" + host + ":" + port();
    }

    /** The service behind the routes. */
    public EmbeddingService service() {
        return service;
    }

    /**
     * Stops gracefully: no new connections, requests in flight answered (waiting at most the config's
     * {@code stopSeconds}), then the inference loop finishes its queue and ends. Idempotent.
     */
    public synchronized void stop() {
        if (stopCalled) return;
        stopCalled = true;
        routes.stopping();
        http.stop(config.stopSeconds()); // returns once every exchange has finished, or after the delay
        service.close(config.stopSeconds() * 1000L);
        threads.shutdown();
        stopped.countDown();
    }

    /** Blocks until {@link #stop} has finished. */
    public void awaitStop() throws InterruptedException {
        stopped.await();
    }

    /** Whether {@link #stop} has been called. */
    public boolean stopping() {
        return stopCalled;
    }

    @Override
    public void close() {
        stop();
    }
}
