// The opt-in metrics endpoint of `qbnet run --metrics ADDR:PORT`: GET
// /metrics answers Prometheus text. The JDK's own HTTP server, one platform
// thread (its dispatcher): a scrape every few seconds needs no more.
package dev.qbkit.qbnet.metrics;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

public final class MetricsServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MetricsServer.class);

    private final HttpServer server;

    private MetricsServer(HttpServer server) {
        this.server = server;
    }

    /** Listens on {@code address}; {@code metrics} renders the text for each scrape. */
    public static MetricsServer start(InetSocketAddress address, Supplier<String> metrics) throws IOException {
        HttpServer server;
        try {
            server = HttpServer.create(address, 16);
        } catch (IOException e) {
            throw new IOException("cannot serve metrics on " + address.getAddress().getHostAddress() + ":"
                    + address.getPort() + ": " + e.getMessage() + " (is the port taken? choose another with --metrics)", e);
        }
        server.createContext("/", exchange -> {
            try (exchange) {
                handle(exchange, metrics);
            } catch (IOException | RuntimeException e) {
                log.debug("metrics request: {}", e.toString());
            }
        });
        server.setExecutor(null);
        server.start();
        log.info("metrics on http://{}/metrics", hostPort(server.getAddress()));
        return new MetricsServer(server);
    }

    private static void handle(HttpExchange exchange, Supplier<String> metrics) throws IOException {
        String method = exchange.getRequestMethod();
        String path = exchange.getRequestURI().getPath();
        if (!method.equals("GET") && !method.equals("HEAD")) {
            exchange.getResponseHeaders().set("Allow", "GET, HEAD");
            reply(exchange, 405, "text/plain; charset=utf-8", "only GET\n", method);
            return;
        }
        if (path.equals("/metrics"))
            reply(exchange, 200, PrometheusText.CONTENT_TYPE, metrics.get(), method);
        else if (path.equals("/"))
            reply(exchange, 200, "text/plain; charset=utf-8", "qbnet metrics: GET /metrics\n", method);
        else
            reply(exchange, 404, "text/plain; charset=utf-8", "not found: try /metrics\n", method);
    }

    private static void reply(HttpExchange exchange, int code, String type, String body, String method)
            throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", type);
        boolean head = method.equals("HEAD");
        exchange.sendResponseHeaders(code, head ? -1 : bytes.length);
        if (!head)
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
    }

    static String hostPort(InetSocketAddress a) {
        String host = a.getAddress().getHostAddress();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    /** Where it listens (the port is the one chosen when 0 was asked for). */
    public InetSocketAddress address() {
        return server.getAddress();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
