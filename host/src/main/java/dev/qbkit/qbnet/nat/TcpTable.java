// The TCP part of one board's NAT: finds the flow of each board segment,
// opens flows for new SYNs within policy and limits, and answers segments
// that belong to no flow with a reset, as a host without a listener would.
package dev.qbkit.qbnet.nat;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.qbkit.qbnet.packet.IpPacket;
import dev.qbkit.qbnet.packet.IpProtocol;
import dev.qbkit.qbnet.packet.TcpHeader;

public final class TcpTable {
    private static final Logger log = LoggerFactory.getLogger(TcpTable.class);

    private final NatContext ctx;
    private final Policy policy;
    private final Supplier<TcpSocket> sockets;
    private final IntSupplier isnSource;
    private final Supplier<List<InetSocketAddress>> dnsUpstreams;
    private final Map<FlowKey, TcpFlow> flows = new HashMap<>();
    private final LinkedHashSet<TcpFlow> timeWait = new LinkedHashSet<>();
    private final TcpHeader seg = new TcpHeader();
    private int nextForwardPort = FORWARD_PORT_MIN;

    static final int FORWARD_PORT_MIN = 49152;

    public TcpTable(NatContext ctx, Policy policy, Supplier<TcpSocket> sockets, IntSupplier isnSource,
            Supplier<List<InetSocketAddress>> dnsUpstreams) {
        this.ctx = ctx;
        this.policy = policy;
        this.sockets = sockets;
        this.isnSource = isnSource;
        this.dnsUpstreams = dnsUpstreams;
    }

    public int size() {
        return flows.size();
    }

    public TcpFlow get(FlowKey key) {
        return flows.get(key);
    }

    public void onPacket(IpPacket ip) {
        ByteBuffer buf = ip.buffer();
        if (!seg.parse(buf, ip.payloadOffset(), ip.payloadLength())) {
            ctx.stats().inc(Counter.DROP_TCP_MALFORMED);
            return;
        }
        FlowKey key = FlowKey.ofBoardPacket(ip, seg.sourcePort(), seg.destinationPort());
        TcpFlow flow = flows.get(key);
        boolean bareSyn = seg.has(TcpHeader.SYN) && !seg.has(TcpHeader.ACK) && !seg.has(TcpHeader.RST);
        if (flow != null && bareSyn && flow.state() == TcpFlow.State.TIME_WAIT) {
            flow.discard(); // the board reuses the port: a new connection
            flow = null;
        }
        if (flow != null) {
            try {
                flow.onSegment(buf, seg);
            } catch (RuntimeException e) {
                flow.failed(e);
            }
            return;
        }
        if (bareSyn) {
            open(key, seg);
            return;
        }
        if (!seg.has(TcpHeader.RST)) {
            ctx.stats().inc(Counter.DROP_TCP_NO_FLOW);
            replyReset(key, seg);
        }
    }

    private void open(FlowKey key, TcpHeader syn) {
        if (seg.sourcePort() == 0) {
            ctx.stats().inc(Counter.DROP_TCP_MALFORMED);
            return;
        }
        if (flows.size() >= ctx.config().maxTcpFlows() && !reuseOldestTimeWait()) {
            ctx.limitHit(Counter.DROP_TCP_FLOW_LIMIT, "the board has " + flows.size()
                    + " TCP flows, the limit: new connections are refused (raise --max-tcp-flows)");
            replyReset(key, syn);
            return;
        }
        InetSocketAddress endpoint = policy.hostEndpoint(key.remoteAddress(), key.remotePort(), IpProtocol.TCP,
                dnsUpstreams.get());
        if (endpoint == null) {
            ctx.stats().inc(Counter.DROP_POLICY);
            log.debug("{}: refused by policy", key);
            replyReset(key, syn);
            return;
        }
        TcpFlow flow = new TcpFlow(ctx, key, syn, sockets.get(), endpoint, isnSource.getAsInt());
        flows.put(key, flow);
        ctx.stats().inc(Counter.TCP_FLOWS_OPENED);
        try {
            flow.start();
        } catch (RuntimeException e) {
            flow.failed(e);
        }
    }

    /**
     * Carries a connection accepted on the host into the board: a flow from
     * {@code source} (the gateway address) and a free port to the board's
     * address and port; the SYN goes out now.
     *
     * @return the flow, or null when the flow limit is reached
     */
    public TcpFlow forward(TcpSocket socket, InetSocketAddress hostPeer, byte[] source, byte[] boardAddress,
            int boardPort) {
        if (flows.size() >= ctx.config().maxTcpFlows() && !reuseOldestTimeWait()) {
            ctx.limitHit(Counter.DROP_TCP_FLOW_LIMIT, "the board has " + flows.size()
                    + " TCP flows, the limit: a forwarded connection is refused (raise --max-tcp-flows)");
            return null;
        }
        FlowKey key = null;
        for (int tries = 0; tries < 65536 - FORWARD_PORT_MIN; tries++) {
            int port = nextForwardPort;
            nextForwardPort = port == 65535 ? FORWARD_PORT_MIN : port + 1;
            FlowKey candidate = new FlowKey(IpProtocol.TCP, boardAddress, boardPort, source, port);
            if (!flows.containsKey(candidate)) {
                key = candidate;
                break;
            }
        }
        if (key == null)
            return null;
        TcpFlow flow = TcpFlow.toBoard(ctx, key, socket, hostPeer, isnSource.getAsInt());
        flows.put(key, flow);
        ctx.stats().inc(Counter.TCP_FLOWS_OPENED);
        try {
            flow.startActive();
        } catch (RuntimeException e) {
            flow.failed(e);
        }
        return flow;
    }

    /** RFC 9293 reset for a segment with no connection. */
    private void replyReset(FlowKey key, TcpHeader s) {
        boolean hasAck = s.has(TcpHeader.ACK);
        int seq = hasAck ? s.ack() : 0;
        int ack = hasAck ? 0 : s.seq() + s.segmentLength();
        int flags = TcpHeader.RST | (hasAck ? 0 : TcpHeader.ACK);
        writeBareSegment(ctx, key, seq, ack, flags);
        ctx.stats().inc(Counter.TCP_RESETS_TO_BOARD);
    }

    /** Writes a header-only segment from the flow's remote end to the board. */
    static void writeBareSegment(NatContext ctx, FlowKey key, int seq, int ack, int flags) {
        TcpWriter.finish(ctx, key, TcpWriter.begin(ctx, key, seq, ack, flags, 0, 0, 0), 0, 0);
    }

    /**
     * TIME_WAIT flows in the order they entered it, which is the order they
     * end (one duration for all): at the flow limit the oldest gives its slot
     * to a new connection, as a kernel reuses a TIME_WAIT socket, rather than
     * the board being refused while the table holds only finished connections.
     */
    void onTimeWait(TcpFlow flow) {
        timeWait.add(flow);
    }

    private boolean reuseOldestTimeWait() {
        var oldest = timeWait.iterator();
        if (!oldest.hasNext())
            return false;
        oldest.next().discard(); // closed: onFlowClosed takes it out of both
        ctx.stats().inc(Counter.TCP_TIME_WAIT_REUSED);
        return true;
    }

    public void onFlowClosed(TcpFlow flow) {
        timeWait.remove(flow);
        if (flows.get(flow.key()) == flow) {
            flows.remove(flow.key());
            ctx.stats().inc(Counter.TCP_FLOWS_CLOSED);
        }
    }

    /** Frees every flow without telling the board (it is gone). */
    public void discardAll() {
        for (TcpFlow flow : new ArrayList<>(flows.values()))
            flow.discard();
        flows.clear();
        timeWait.clear();
    }

    public Map<TcpFlow.State, Integer> countByState() {
        Map<TcpFlow.State, Integer> counts = new java.util.EnumMap<>(TcpFlow.State.class);
        for (TcpFlow f : flows.values())
            counts.merge(f.state(), 1, Integer::sum);
        return counts;
    }
}
