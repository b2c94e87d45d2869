package dev.bertj.cli;

import dev.bertj.serve.BertServer;
import dev.bertj.serve.EmbeddingService;
import dev.bertj.serve.ServerConfig;

import java.io.BufferedReader;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Set;

/** {@code ./bertj serve}: the embedding and classification server (TEI's routes and OpenAI's /v1/embeddings). */
final class ServeCommand implements Command {
    @Override
    public String name() {
        return "serve";
    }

    @Override
    public String summary() {
        return "HTTP server: TEI's /embed /predict /tokenize, OpenAI's /v1/embeddings, /fill-mask, /metrics";
    }

    @Override
    public String help() {
        return """
                Usage: ./bertj serve --model M [--host 127.0.0.1] [--port 8080] [--max-batch-tokens 16384]
                    [--max-concurrent-requests 512] [--max-client-batch-size 32] [--max-input-length N]
                    [--payload-limit 2000000] [--auto-truncate] [--api-key KEY] [--device D]

                Serves the model M (default, bert-base-uncased or a directory) over HTTP with the routes and
                shapes of Hugging Face's text-embeddings-inference, and prints one line with the URL when ready:
                  POST /embed           {"inputs": str | [str], "normalize": true, "truncate": false} -> [[float]]
                  POST /predict         {"inputs": str | [a, b] | [[a], [a, b]], "raw_scores": false} (classification checkpoints)
                  POST /tokenize        {"inputs": str | [str], "add_special_tokens": true}
                  POST /fill-mask       {"inputs": str | [str], "top_k": 5} (models with the masked-LM head)
                  POST /v1/embeddings   OpenAI's {"input", "model", "encoding_format": "float" | "base64"}
                  GET  /health /info /metrics
                Errors are {"error": ..., "error_type": ...}: 413 too large, 422 invalid (the field named),
                429 beyond --max-concurrent-requests, 401 without the --api-key (every route but /health).
                  --max-batch-tokens N         padded tokens the inference loop batches at once
                  --max-client-batch-size N    inputs per request
                  --max-input-length N         tokens per input (default: the model's maximum); longer is a 413
                  --auto-truncate              truncate longer inputs instead, unless a request says "truncate": false
                  --host H                     address to bind (127.0.0.1: this machine only)
                SIGTERM stops it gracefully: requests in flight are answered, then it exits 0.
                --device cpu|cuda|cuda:N runs the model on that device (--precision fp32|tf32|bf16 on a GPU).
                """;
    }

    @Override
    public int run(String[] argv, BufferedReader in, PrintStream out, PrintStream err) throws Exception {
        Args a = new Args(name(), argv, Args.withDevice(Set.of("model", "host", "port", "max-batch-tokens", "max-concurrent-requests",
                "max-client-batch-size", "max-input-length", "payload-limit", "api-key")), Set.of("auto-truncate"));
        var device = a.device();
        ServerConfig defaults = ServerConfig.defaults();
        int port = a.intValue("port", defaults.port(), 0);
        if (port > 65535) throw new Args.UsageException("serve: --port must be at most 65535, got " + port);
        if (a.has("api-key") && a.get("api-key").isEmpty()) throw new Args.UsageException("serve: --api-key must not be empty");
        ServerConfig config = new ServerConfig(a.has("host") ? a.get("host") : defaults.host(), port,
                a.intValue("max-concurrent-requests", defaults.maxConcurrentRequests(), 1), a.intValue("payload-limit", defaults.payloadLimit(), 1),
                a.has("api-key") ? a.get("api-key") : null, defaults.stopSeconds());
        EmbeddingService.Settings settings = new EmbeddingService.Settings(a.intValue("max-batch-tokens", 16384, 1),
                a.intValue("max-client-batch-size", 32, 1), a.intValue("max-input-length", 0, 1), a.has("auto-truncate"), device);
        String model = a.require("model");
        Path dir = ModelCache.resolve(model);
        // The one place the server reaches the fill-mask postprocess (it moves to a library facade later).
        EmbeddingService service = EmbeddingService.load(dir, model, settings, FillMaskCommand::fill);
        BertServer server;
        try {
            server = BertServer.start(service, config);
        } catch (java.io.IOException e) {
            service.close();
            throw new java.io.IOException("cannot listen on " + config.host() + ":" + config.port() + ": " + e.getMessage(), e);
        }
        Thread hook = new Thread(() -> {
            if (server.stopping()) return; // stopped from inside the JVM: keep its exit status
            err.println("bertj serve: stopping (requests in flight are answered first)");
            server.stop();
            err.println("bertj serve: stopped");
            out.flush();
            // A JVM ended by SIGTERM exits 143; a graceful stop is a success, so say 0.
            Runtime.getRuntime().halt(0);
        }, "bertj-serve-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        out.println("bertj serve: listening on " + server.url() + " (model " + model + ", " + service.dimensions() + " dimensions, "
                + service.pooling().id() + " pooling" + (service.labels() != null ? ", labels " + service.labels() : "")
                + (service.servesFillMask() ? ", fill-mask" : "") + ")");
        out.flush();
        server.awaitStop();
        return 0;
    }
}
