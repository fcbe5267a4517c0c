// Every event the host driver counts per board: traffic, and each reason a
// bundle, frame or packet was dropped. Names appear in `qbnet status`.
package dev.qbkit.qbnet.nat;

public enum Counter {
    BUNDLES_RX("link", "bundles received"),
    BUNDLES_TX("link", "bundles sent"),
    BYTES_RX("link", "bytes received"),
    BYTES_TX("link", "bytes sent"),
    FRAMES_RX("link", "frames received"),
    FRAMES_TX("link", "frames sent"),
    DROP_BUNDLE_BAD_MAGIC("drop", "bundle: bad magic"),
    DROP_BUNDLE_BAD_FORMAT("drop", "bundle: bad format"),
    DROP_BUNDLE_BAD_LENGTH("drop", "bundle: bad length"),
    DROP_BUNDLE_TRUNCATED_FRAME("drop", "bundle: truncated frame"),
    DROP_UNKNOWN_CHANNEL("drop", "frame: unknown channel"),
    DROP_CONTROL_MALFORMED("drop", "control: malformed"),
    DROP_CONTROL_UNKNOWN_TYPE("drop", "control: unknown type"),
    DROP_IP_BEFORE_HELLO("drop", "ip: before board HELLO"),
    DROP_IP_MALFORMED("drop", "ip: malformed"),
    DROP_IP_FRAGMENT("drop", "ip: fragment"),
    DROP_IP_BAD_SOURCE("drop", "ip: bad source address"),
    DROP_IP_PROTOCOL("drop", "ip: unsupported protocol"),
    DROP_IP_FAILED("drop", "ip: internal error while handling the packet"),
    DROP_POLICY("drop", "policy: destination not allowed"),
    DROP_TCP_MALFORMED("drop", "tcp: malformed"),
    DROP_TCP_NO_FLOW("drop", "tcp: no flow (answered with RST)"),
    DROP_TCP_OUT_OF_ORDER("drop", "tcp: out of order and no room to hold it"),
    DROP_TCP_OUT_OF_WINDOW("drop", "tcp: outside window"),
    DROP_TCP_FLOW_LIMIT("drop", "tcp: flow limit reached"),
    DROP_TCP_BUFFER_LIMIT("drop", "tcp: buffer limit reached"),
    DROP_TCP_FLOW_FAILED("drop", "tcp: flow reset after an internal error"),
    DROP_UDP_MALFORMED("drop", "udp: malformed"),
    DROP_UDP_FLOW_LIMIT("drop", "udp: flow limit reached"),
    DROP_UDP_SEND_FAILED("drop", "udp: host send failed"),
    DROP_UDP_TOO_BIG("drop", "udp: reply larger than MTU"),
    DROP_UDP_FILTERED("drop", "udp: from a peer the board never sent to"),
    DROP_ICMP_MALFORMED("drop", "icmp: malformed or bad checksum"),
    DROP_DNS_MALFORMED("drop", "dns: malformed query"),
    DROP_DNS_LIMIT("drop", "dns: too many queries in flight"),
    DROP_LINK_OVERFLOW("drop", "link: transmit queue full"),
    DROP_INJECTED("drop", "test: IP frames dropped on purpose (--test-drop-frames)"),
    DROP_LINK_HELD("drop", "link: IP packets for the board while it was held (link down)"),
    LINK_RESUMES("link", "link losses the board's connections were held through"),
    TCP_HELD_RESETS("tcp", "resets kept while the board was held, sent when it came back"),
    TCP_FLOWS_OPENED("tcp", "flows opened"),
    TCP_FLOWS_CLOSED("tcp", "flows closed"),
    TCP_TIME_WAIT_REUSED("tcp", "flows in TIME_WAIT closed early to make room at the flow limit"),
    TCP_CONNECT_REFUSED("tcp", "connects refused"),
    TCP_CONNECT_FAILED("tcp", "connects failed (unreachable, timeout)"),
    TCP_RESETS_FROM_BOARD("tcp", "resets from board"),
    TCP_RESETS_TO_BOARD("tcp", "resets to board"),
    TCP_RETRANSMITS("tcp", "segments retransmitted"),
    TCP_OUT_OF_ORDER_QUEUED("tcp", "out-of-order segments held for reassembly"),
    TCP_DUPLICATES("tcp", "old segments from the board (retransmissions, keepalives), acked again"),
    TCP_FAST_RETRANSMITS("tcp", "fast retransmits"),
    TCP_TIMEOUTS("tcp", "retransmission timeouts"),
    TCP_WINDOW_PROBES("tcp", "zero-window probes sent"),
    TCP_KEEPALIVES_MIRRORED("tcp", "host sockets given the board's keepalive"),
    TCP_IDLE_CLOSED("tcp", "flows closed idle"),
    UDP_FLOWS_OPENED("udp", "flows opened"),
    UDP_FLOWS_CLOSED("udp", "flows closed"),
    UDP_DATAGRAMS_TX("udp", "datagrams board to host"),
    UDP_DATAGRAMS_RX("udp", "datagrams host to board"),
    UDP_READS_PAUSED("udp", "host sockets paused while the link was congested"),
    ICMP_ECHO_REQUESTS("icmp", "echo requests from the board"),
    ICMP_ECHO_REPLIES("icmp", "echo replies to the board"),
    ICMP_IGNORED("icmp", "other ICMP from the board (ignored)"),
    ICMP_UNREACHABLE_SENT("icmp", "unreachable errors to the board"),
    DROP_ICMP_CONGESTED("drop", "icmp: echo reply dropped, link congested"),
    DNS_QUERIES("dns", "queries"),
    DNS_FAILURES("dns", "queries answered SERVFAIL"),
    DNS_ANSWERS_HELD("dns", "answers held while the link was congested"),
    KEEPALIVES_RX("link", "keepalives received"),
    HANDLER_FAILURES("bug", "internal errors caught");

    private final String group;
    private final String description;

    Counter(String group, String description) {
        this.group = group;
        this.description = description;
    }

    public String group() {
        return group;
    }

    public String description() {
        return description;
    }

    public boolean isDrop() {
        return group.equals("drop");
    }
}
