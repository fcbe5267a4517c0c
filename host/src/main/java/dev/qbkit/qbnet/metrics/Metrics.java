// qbnet's metrics, as `qbnet run --metrics` serves them and `qbnet status
// --prometheus` prints them: the driver, every board (labels board, serial)
// with its flows, traffic and every counter, drops by reason. Names start
// with qbnet_; counters end in _total (DESIGN.md "Metrics").
package dev.qbkit.qbnet.metrics;

import java.util.List;
import java.util.Locale;
import java.util.Map;

import dev.qbkit.qbnet.control.BoardStatus;
import dev.qbkit.qbnet.control.StatusReport;
import dev.qbkit.qbnet.nat.Counter;

public final class Metrics {
    private Metrics() {
    }

    /** The name of a (non-drop) counter: qbnet_GROUP_NAME_total, e.g. qbnet_tcp_retransmits_total. */
    static String counterName(Counter c) {
        String name = c.name().toLowerCase(Locale.ROOT);
        String group = c.group();
        if (name.startsWith(group + "_"))
            name = name.substring(group.length() + 1);
        return "qbnet_" + group + "_" + name + "_total";
    }

    /** The reason label of a drop counter: DROP_TCP_OUT_OF_WINDOW is tcp_out_of_window. */
    static String dropReason(Counter c) {
        return c.name().substring("DROP_".length()).toLowerCase(Locale.ROOT);
    }

    /**
     * Renders {@code status} and each board's counters ({@code counters} by
     * board id; a board missing there has only its status figures).
     */
    public static String render(StatusReport status, Map<Integer, Map<Counter, Long>> counters, int dnsServers) {
        PrometheusText t = new PrometheusText();
        t.family("qbnet_info", "gauge", "qbnet's version and where boards attach (always 1)")
                .sample(1, "version", status.version(), "link", status.link());
        t.family("qbnet_uptime_seconds", "gauge", "Seconds since qbnet run started").sample(status.uptimeSeconds());
        t.family("qbnet_boards", "gauge", "Boards attached").sample(status.boards().size());
        t.family("qbnet_dns_upstream_servers", "gauge",
                "DNS servers the boards' queries go to now (0: none, queries are answered SERVFAIL)").sample(dnsServers);
        t.family("qbnet_heap_used_bytes", "gauge", "Java heap in use").sample(status.jvm().heapUsedBytes());
        t.family("qbnet_forwards_waiting", "gauge", "Port forwards no attached board holds")
                .sample(status.forwards().stream().filter(f -> f.boardId() == null).count());
        List<BoardStatus> boards = status.boards();
        if (boards.isEmpty())
            return t.toString();
        t.family("qbnet_board_info", "gauge", "An attached board: its software, link and session state (always 1)");
        for (BoardStatus b : boards)
            t.sample(1, "board", id(b), "serial", serial(b), "software", b.software() == null ? "" : b.software(),
                    "link", b.link(), "state", b.state());
        gauge(t, boards, "qbnet_board_uptime_seconds", "Seconds since the board's link came up", BoardStatus::uptimeSeconds);
        gauge(t, boards, "qbnet_board_mtu", "The MTU the board was given", BoardStatus::mtu);
        // Every family is always there (a board has no RTT before its first keepalive answer), so the
        // families of two scrapes are the same.
        t.family("qbnet_board_keepalive_rtt_seconds", "gauge", "Round trip of the last link keepalive");
        for (BoardStatus b : boards)
            if (b.keepaliveRttMs() != null)
                t.sample(b.keepaliveRttMs() / 1000, "board", id(b), "serial", serial(b));
        t.family("qbnet_tcp_flows", "gauge", "TCP flows of the board, by state");
        for (BoardStatus b : boards)
            for (var e : b.flows().tcpByState().entrySet())
                t.sample(e.getValue(), "board", id(b), "serial", serial(b), "state", e.getKey().toLowerCase(Locale.ROOT));
        gauge(t, boards, "qbnet_udp_flows", "UDP mappings of the board", b -> b.flows().udp());
        gauge(t, boards, "qbnet_dns_queries_in_flight", "The board's DNS queries waiting for upstream servers",
                b -> b.flows().dnsInFlight());
        gauge(t, boards, "qbnet_buffered_bytes", "Flow data held for the board's flows", b -> b.flows().bufferedBytes());
        gauge(t, boards, "qbnet_buffer_limit_bytes", "Most flow data held for one board (--max-buffer)",
                b -> b.flows().bufferLimitBytes());
        for (Counter c : Counter.values()) {
            if (c.isDrop())
                continue;
            t.family(counterName(c), "counter", c.description());
            for (BoardStatus b : boards) {
                Long v = counters.getOrDefault(b.id(), Map.of()).get(c);
                if (v != null)
                    t.sample(v, "board", id(b), "serial", serial(b));
            }
        }
        t.family("qbnet_drops_total", "counter", "Bundles, frames and packets dropped, by reason");
        for (BoardStatus b : boards)
            for (Counter c : Counter.values())
                if (c.isDrop()) {
                    Long v = counters.getOrDefault(b.id(), Map.of()).get(c);
                    if (v != null)
                        t.sample(v, "board", id(b), "serial", serial(b), "reason", dropReason(c));
                }
        return t.toString();
    }

    private static void gauge(PrometheusText t, List<BoardStatus> boards, String name, String help,
            java.util.function.ToDoubleFunction<BoardStatus> value) {
        t.family(name, "gauge", help);
        for (BoardStatus b : boards)
            t.sample(value.applyAsDouble(b), "board", id(b), "serial", serial(b));
    }

    private static String id(BoardStatus b) {
        return Integer.toString(b.id());
    }

    private static String serial(BoardStatus b) {
        return b.serial() == null ? "" : b.serial();
    }
}
