// One board's NAT: takes the board's IP packets, hands each to its protocol
// table (TCP, UDP with the DNS proxy), and owns what they share: buffers,
// counters, the ack list flushed at the end of every loop round, and the clock
// its timers run on (stopped while the board is held). A packet or flow whose
// handling throws is dropped or reset, counted, and the rest goes on.
package dev.qbkit.qbnet.nat;

import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import dev.qbkit.qbnet.loop.EventLoop;
import dev.qbkit.qbnet.loop.Timer;
import dev.qbkit.qbnet.packet.IpPacket;
import dev.qbkit.qbnet.packet.IpProtocol;

public final class Nat implements NatContext {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Nat.class);
    private final NatConfig config;
    private final EventLoop loop;
    private final PacketOutput output;
    private final Stats stats;
    private final BufferPool buffers;
    private final LinkWaiters waiters = new LinkWaiters();
    private final TcpTable tcp;
    private final UdpTable udp;
    private final DnsProxy dns;
    private final IcmpTable icmp;
    private final IpPacket ip = new IpPacket();
    private final List<TcpFlow> ackQueue = new ArrayList<>();
    private final SplittableRandom random = new SplittableRandom(new SecureRandom().nextLong());
    private int ipId;
    private final LogLimiter logLimiter = new LogLimiter();
    private final NatClock clock;

    /** @param echoSenders opens the host's way of sending the board's pings (platform/EchoSenders) */
    public Nat(NatConfig config, EventLoop loop, PacketOutput output, Stats stats, DnsUpstreams dnsUpstreams,
            EchoSender.Factory echoSenders) {
        this.config = config;
        this.loop = loop;
        this.output = output;
        this.stats = stats;
        this.clock = NatClock.on(loop);
        this.buffers = new BufferPool(config.maxBufferedBytes(), 64);
        Policy policy = new Policy(config);
        this.dns = new DnsProxy(this, loop, dnsUpstreams);
        this.tcp = new TcpTable(this, policy, () -> new NioTcpSocket(loop), random::nextInt, dnsUpstreams::servers);
        this.udp = new UdpTable(this, loop, policy, dns);
        this.icmp = new IcmpTable(this, policy);
        icmp.setSender(echoSenders.open(loop, icmp));
    }

    /** Handles one IP packet from the board. */
    public void onPacket(ByteBuffer buf, int offset, int length) {
        try {
            handle(buf, offset, length);
        } catch (RuntimeException e) {
            output.abortPacket();
            stats.inc(Counter.DROP_IP_FAILED);
            logFailure("ip-failed", "an IP packet from the board", e);
        }
    }

    private void handle(ByteBuffer buf, int offset, int length) {
        if (!ip.parse(buf, offset, length)) {
            stats.inc(ip.reject() == IpPacket.Reject.FRAGMENT ? Counter.DROP_IP_FRAGMENT : Counter.DROP_IP_MALFORMED);
            return;
        }
        if (!isUsableSource(buf, ip.sourceOffset(), ip.isIpv6())) {
            stats.inc(Counter.DROP_IP_BAD_SOURCE);
            return;
        }
        switch (ip.protocol()) {
            case IpProtocol.TCP -> tcp.onPacket(ip);
            case IpProtocol.UDP -> udp.onPacket(ip);
            case IpProtocol.ICMP, IpProtocol.ICMPV6 -> icmp.onPacket(ip);
            default -> stats.inc(Counter.DROP_IP_PROTOCOL);
        }
    }

    /** Unspecified, loopback, multicast or broadcast sources are never a board's own. */
    static boolean isUsableSource(ByteBuffer buf, int at, boolean ipv6) {
        if (!ipv6) {
            int first = Byte.toUnsignedInt(buf.get(at));
            return first != 0 && first != 127 && first < 224;
        }
        if (Byte.toUnsignedInt(buf.get(at)) == 0xFF)
            return false;
        long high = buf.getLong(at);
        long low = buf.getLong(at + 8);
        return !(high == 0 && (low == 0 || low == 1));
    }

    /** End of a loop round: owed acks, then flows waiting for link room. */
    public void flush() {
        for (int i = 0; i < ackQueue.size(); i++) {
            TcpFlow flow = ackQueue.get(i);
            try {
                flow.flushAck();
            } catch (RuntimeException e) {
                flow.failed(e);
            }
        }
        ackQueue.clear();
        if (!waiters.isEmpty() && !output.congested())
            waiters.drain(output);
    }

    public void onLinkWritable() {
        waiters.drain(output);
    }

    /**
     * The board's link is gone and its NAT is kept for it (doc/DESIGN.md,
     * "Connections survive an unplug"): time stops for every flow, so none
     * retransmits, probes or times out; the output reports congestion, so
     * none sends new data, and host sockets are read only to the flows'
     * buffer limits.
     */
    public void hold() {
        clock.hold();
    }

    /** The board is back on a new link: timers go on from where they stopped. */
    public void resume() {
        clock.resume();
    }

    public boolean isHeld() {
        return clock.isHeld();
    }

    /** How long the board has been held in all, in nanoseconds. */
    public long heldNanos() {
        return clock.heldNanos();
    }

    /** Frees every flow and socket of this board. */
    public void close() {
        tcp.discardAll();
        udp.closeAll();
        icmp.close();
        dns.close();
        ackQueue.clear();
        buffers.close();
    }

    public TcpTable tcp() {
        return tcp;
    }

    public UdpTable udp() {
        return udp;
    }

    public DnsProxy dns() {
        return dns;
    }

    public IcmpTable icmp() {
        return icmp;
    }

    // ---- NatContext ---------------------------------------------------------

    @Override
    public long now() {
        return clock.now();
    }

    @Override
    public void schedule(Timer timer, long deadline) {
        clock.schedule(timer, deadline);
    }

    @Override
    public void cancel(Timer timer) {
        clock.cancel(timer);
    }

    @Override
    public PacketOutput output() {
        return output;
    }

    @Override
    public LinkWaiters linkWaiters() {
        return waiters;
    }

    @Override
    public BufferPool buffers() {
        return buffers;
    }

    @Override
    public Stats stats() {
        return stats;
    }

    @Override
    public NatConfig config() {
        return config;
    }

    @Override
    public int nextIpId() {
        return ipId++;
    }

    @Override
    public void limitHit(Counter counter, String message) {
        stats.inc(counter);
        long skipped = logLimiter.allow(counter.name(), loop.now());
        if (skipped >= 0)
            log.warn("{} (counted as '{}'; logged at most every 10 s){}", message, counter.description(),
                    LogLimiter.note(skipped));
    }

    @Override
    public void flowFailed(FlowKey key, RuntimeException cause) {
        stats.inc(Counter.DROP_TCP_FLOW_FAILED);
        logFailure("flow-failed", "TCP flow " + key, cause);
    }

    /** An internal error, with its stack, at most once every 10 s per kind. */
    private void logFailure(String kind, String what, RuntimeException cause) {
        long skipped = logLimiter.allow(kind, loop.now());
        if (skipped >= 0)
            log.warn("internal error handling {}: {}; dropped/reset, the board's other traffic goes on{}", what,
                    cause.toString(), LogLimiter.note(skipped), cause);
    }

    @Override
    public void ackLater(TcpFlow flow) {
        ackQueue.add(flow);
    }

    @Override
    public void flowClosed(TcpFlow flow) {
        tcp.onFlowClosed(flow);
    }

    @Override
    public void flowInTimeWait(TcpFlow flow) {
        tcp.onTimeWait(flow);
    }
}
