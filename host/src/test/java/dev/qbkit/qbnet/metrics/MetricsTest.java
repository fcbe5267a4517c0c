// qbnet's metrics read back by a strict parser of the text format: names,
// families, escaping of what a board chooses (its serial), every counter
// and drop reason; and the HTTP endpoint.
package dev.qbkit.qbnet.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;

import dev.qbkit.qbnet.control.BoardStatus;
import dev.qbkit.qbnet.control.StatusReport;
import dev.qbkit.qbnet.nat.Counter;

class MetricsTest {
    static final String HOSTILE_SERIAL = "a\"b\\c\nd}{,=";

    static StatusReport report() {
        BoardStatus one = new BoardStatus(1, "QB-0001", "qbnetd 0.1", "unix:/tmp/link.sock", "active", 1, 65520, 42, 0.25,
                new BoardStatus.Flows(3, Map.of("ESTABLISHED", 2, "TIME_WAIT", 1), 4, 1, 65536, 1 << 28),
                new BoardStatus.Traffic(1000, 2000, 10, 20, 1.5, 2.5), Map.of(), List.of("tcp:127.0.0.1:2222:22"));
        BoardStatus two = new BoardStatus(2, HOSTILE_SERIAL, null, "usb 1-2", "waiting_for_hello", 0, 0, 1, null,
                new BoardStatus.Flows(0, Map.of(), 0, 0, 0, 1 << 28), new BoardStatus.Traffic(0, 0, 0, 0, 0, 0),
                Map.of(), List.of());
        return new StatusReport("0.1.0", "unix:/tmp/link.sock", 100, List.of(one, two),
                List.of(new StatusReport.ForwardState("udp:127.0.0.1:5353:53", null)),
                new StatusReport.Jvm(12345678, 23456789, 20, false));
    }

    static Map<Integer, Map<Counter, Long>> counters() {
        Map<Counter, Long> one = new EnumMap<>(Counter.class);
        Map<Counter, Long> two = new EnumMap<>(Counter.class);
        long n = 1;
        for (Counter c : Counter.values()) {
            one.put(c, n++);
            two.put(c, 0L);
        }
        return Map.of(1, one, 2, two);
    }

    @Test
    void theOutputParsesAndCarriesEveryCounter() {
        List<ExpositionParser.Sample> samples = ExpositionParser.parse(Metrics.render(report(), counters(), 2));
        Set<String> names = samples.stream().map(ExpositionParser.Sample::name).collect(Collectors.toSet());
        assertTrue(names.stream().allMatch(n -> n.startsWith("qbnet_")), names.toString());
        long n = 1;
        for (Counter c : Counter.values()) {
            long want = n++;
            boolean found = samples.stream().anyMatch(s -> "1".equals(s.labels().get("board")) && s.value() == want
                    && (c.isDrop() ? s.name().equals("qbnet_drops_total")
                            && s.labels().get("reason").equals(Metrics.dropReason(c)) : s.name().equals(Metrics.counterName(c))));
            assertTrue(found, c + " is exported for board 1");
        }
        assertEquals(Counter.values().length * 2, samples.stream().filter(s -> s.name().endsWith("_total")).count(),
                "every counter for both boards, zeros included");
        assertEquals(Set.of("qbnet_link_bytes_rx_total", "qbnet_tcp_retransmits_total", "qbnet_dns_queries_total",
                "qbnet_drops_total"), names.stream().filter(x -> Set.of("qbnet_link_bytes_rx_total",
                        "qbnet_tcp_retransmits_total", "qbnet_dns_queries_total", "qbnet_drops_total").contains(x))
                        .collect(Collectors.toSet()), "names people will query keep their spelling");
        var rtt = samples.stream().filter(s -> s.name().equals("qbnet_board_keepalive_rtt_seconds")).toList();
        assertEquals(1, rtt.size());
        assertEquals(0.00025, rtt.getFirst().value(), 1e-12);
        assertTrue(samples.stream().anyMatch(s -> s.name().equals("qbnet_tcp_flows")
                && "time_wait".equals(s.labels().get("state")) && s.value() == 1));
        assertTrue(samples.stream().anyMatch(s -> s.name().equals("qbnet_dns_upstream_servers") && s.value() == 2));
        assertTrue(samples.stream().anyMatch(s -> s.name().equals("qbnet_forwards_waiting") && s.value() == 1));
    }

    @Test
    void aBoardsSerialIsEscapedAndReadsBackAsItWas() {
        List<ExpositionParser.Sample> samples = ExpositionParser.parse(Metrics.render(report(), counters(), 0));
        assertTrue(samples.stream().anyMatch(s -> "2".equals(s.labels().get("board"))
                && HOSTILE_SERIAL.equals(s.labels().get("serial"))));
    }

    @Test
    void theFamiliesDoNotDependOnWhatIsKnownYet() {
        StatusReport r = report();
        BoardStatus b = r.boards().getFirst();
        BoardStatus noRtt = new BoardStatus(b.id(), b.serial(), b.software(), b.link(), b.state(), b.protocol(), b.mtu(),
                b.uptimeSeconds(), null, b.flows(), b.traffic(), b.drops(), b.forwards());
        StatusReport without = new StatusReport(r.version(), r.link(), r.uptimeSeconds(), List.of(noRtt), r.forwards(),
                r.jvm());
        assertEquals(families(Metrics.render(r, counters(), 1)), families(Metrics.render(without, counters(), 1)),
                "two scrapes a keepalive apart have the same families");
    }

    private static List<String> families(String text) {
        return text.lines().filter(l -> l.startsWith("# TYPE")).toList();
    }

    @Test
    void noBoardsStillParses() {
        StatusReport empty = new StatusReport("0.1.0", "usb [1209:0001]", 5, List.of(), List.of(),
                new StatusReport.Jvm(1, 2, 3, false));
        List<ExpositionParser.Sample> samples = ExpositionParser.parse(Metrics.render(empty, Map.of(), 0));
        assertTrue(samples.stream().anyMatch(s -> s.name().equals("qbnet_boards") && s.value() == 0));
        assertTrue(samples.stream().anyMatch(s -> s.name().equals("qbnet_info") && s.labels().get("link").equals("usb [1209:0001]")));
    }

    @Test
    void theWriterRefusesWhatTheFormatForbids() {
        PrometheusText t = new PrometheusText();
        assertThrows(IllegalArgumentException.class, () -> t.family("qbnet-bad", "gauge", "x"));
        assertThrows(IllegalArgumentException.class, () -> t.family("qbnet_count", "counter", "x"));
        assertThrows(IllegalStateException.class, () -> new PrometheusText().sample(1));
        t.family("qbnet_x", "gauge", "help with \\ and\nnewline");
        assertThrows(IllegalArgumentException.class, () -> t.sample(1, "bad-label", "v"));
        assertThrows(IllegalArgumentException.class, () -> t.sample(1, "__reserved", "v"));
        t.sample(Double.NaN).sample(Double.POSITIVE_INFINITY, "a", "1").sample(0.5, "a", "2");
        assertEquals("""
                # HELP qbnet_x help with \\\\ and\\nnewline
                # TYPE qbnet_x gauge
                qbnet_x NaN
                qbnet_x{a="1"} +Inf
                qbnet_x{a="2"} 0.5
                """, t.toString());
        ExpositionParser.parse(t.toString());
    }

    @Test
    void theParserCatchesBrokenOutput() {
        assertThrows(AssertionError.class, () -> ExpositionParser.parse("# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na 2\n"));
        assertThrows(AssertionError.class, () -> ExpositionParser.parse("# TYPE a gauge\na{x=\"\\t\"} 1\n"));
        assertThrows(AssertionError.class, () -> ExpositionParser.parse("a 1\n"));
        assertThrows(AssertionError.class, () -> ExpositionParser.parse("# TYPE a counter\na 1\n"));
        assertThrows(AssertionError.class, () -> ExpositionParser.parse("# TYPE a gauge\na one\n"));
        assertThrows(AssertionError.class, () -> ExpositionParser.parse("# TYPE a gauge\na 1"));
        assertThrows(AssertionError.class, () -> ExpositionParser.parse("# TYPE a gauge\na{x=\"1\"} 1\na{x=\"1\"} 2\n"));
    }

    @Test
    void theEndpointServesTheTextOnLoopback() throws Exception {
        try (MetricsServer server = MetricsServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                () -> Metrics.render(report(), counters(), 1))) {
            HttpClient http = HttpClient.newHttpClient();
            String base = "http://" + MetricsServer.hostPort(server.address());
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertEquals(PrometheusText.CONTENT_TYPE, r.headers().firstValue("Content-Type").orElse(""));
            assertTrue(ExpositionParser.parse(r.body()).size() > 100);
            assertEquals(404, http.send(HttpRequest.newBuilder(URI.create(base + "/nothing")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode());
            assertEquals(405, http.send(HttpRequest.newBuilder(URI.create(base + "/metrics"))
                    .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString())
                    .statusCode());
        }
    }
}
