package dev.bertj.serve;

/**
 * The HTTP side's settings (TEI's names and defaults).
 *
 * @param host the address to bind; 127.0.0.1 unless told otherwise
 * @param port the port; 0 picks a free one
 * @param maxConcurrentRequests requests served at once; beyond, 429 (512)
 * @param payloadLimit largest request body in bytes; beyond, 413 (2,000,000)
 * @param apiKey when not null, every route but /health needs {@code Authorization: Bearer KEY}
 * @param stopSeconds how long a graceful stop waits for requests in flight
 */
public record ServerConfig(String host, int port, int maxConcurrentRequests, int payloadLimit, String apiKey, int stopSeconds) {
    /** Checks the ranges. */
    public ServerConfig {
        if (port < 0 || port > 65535) throw new IllegalArgumentException("port must be 0..65535, got " + port);
        if (maxConcurrentRequests < 1) throw new IllegalArgumentException("max concurrent requests must be at least 1, got " + maxConcurrentRequests);
        if (payloadLimit < 1) throw new IllegalArgumentException("payload limit must be at least 1 byte, got " + payloadLimit);
        if (apiKey != null && apiKey.isEmpty()) throw new IllegalArgumentException("the API key must not be empty");
        if (stopSeconds < 0) throw new IllegalArgumentException("stop seconds must not be negative");
    }

    /** TEI's defaults on 127.0.0.1:8080, no API key, 30 s to stop. */
    public static ServerConfig defaults() {
        return new ServerConfig("127.0.0.1", 8080, 512, 2_000_000, null, 30);
    }

    /** A copy on another port. */
    public ServerConfig withPort(int p) {
        return new ServerConfig(host, p, maxConcurrentRequests, payloadLimit, apiKey, stopSeconds);
    }

    /** A copy with another concurrency limit. */
    public ServerConfig withMaxConcurrentRequests(int n) {
        return new ServerConfig(host, port, n, payloadLimit, apiKey, stopSeconds);
    }

    /** A copy with an API key. */
    public ServerConfig withApiKey(String key) {
        return new ServerConfig(host, port, maxConcurrentRequests, payloadLimit, key, stopSeconds);
    }

    /** A copy with another payload limit. */
    public ServerConfig withPayloadLimit(int bytes) {
        return new ServerConfig(host, port, maxConcurrentRequests, bytes, apiKey, stopSeconds);
    }
}
