package dev.bertj.bench;

import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;

/**
 * One HTTP/1.1 keep-alive connection, one request at a time, on the calling thread: the client
 * side of a load generator, as wrk, hey or oha have it. Why not {@code java.net.http.HttpClient}:
 * it hands every request to its selector thread and every response to an executor thread, about
 * 1 ms of CPU per request on threads of its own; on a 2-vCPU machine that runs the server too, that
 * CPU competes with the server's forward pass, and the latency a server adds is then mostly the
 * client's (ServeLoad reports both clients at 1 client, so the difference is on record).
 */
final class KeepAliveClient implements Closeable {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final String host;

    KeepAliveClient(String url) throws IOException {
        URI u = URI.create(url);
        socket = new Socket(u.getHost(), u.getPort());
        socket.setTcpNoDelay(true);
        socket.setSoTimeout(300_000);
        in = new BufferedInputStream(socket.getInputStream(), 1 << 16);
        out = socket.getOutputStream();
        host = u.getHost() + ":" + u.getPort();
    }

    /** POSTs a JSON body and returns the response's status; the body is read in full and dropped. */
    int post(String path, byte[] json) throws IOException {
        byte[] head = ("POST " + path + " HTTP/1.1\r\nHost: " + host + "\r\nContent-Type: application/json\r\nContent-Length: "
                + json.length + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
        byte[] request = new byte[head.length + json.length];
        System.arraycopy(head, 0, request, 0, head.length);
        System.arraycopy(json, 0, request, head.length, json.length);
        out.write(request); // one write: one segment for a small request
        out.flush();
        String status = line();
        String[] parts = status.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) throw new IOException("not an HTTP/1.x status line: " + status);
        long length = -1;
        for (String h; !(h = line()).isEmpty(); ) {
            if (h.regionMatches(true, 0, "content-length:", 0, 15)) length = Long.parseLong(h.substring(15).trim());
            if (h.regionMatches(true, 0, "transfer-encoding:", 0, 18)) throw new IOException("chunked responses are not read here: " + h);
        }
        if (length < 0) throw new IOException("response without Content-Length to " + path);
        in.skipNBytes(length); // read to the end: the next response starts right after
        return Integer.parseInt(parts[1]);
    }

    private String line() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int c; (c = in.read()) != '\n'; ) {
            if (c < 0) throw new EOFException("the server closed the connection");
            if (c != '\r') sb.append((char) c);
        }
        return sb.toString();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
