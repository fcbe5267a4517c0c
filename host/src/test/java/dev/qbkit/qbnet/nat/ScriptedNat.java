// A board's TCP NAT under test: a manual clock, fake host sockets, and every
// packet the NAT sends collected in order, as in smoltcp's tests.
package dev.qbkit.qbnet.nat;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

import dev.qbkit.qbnet.loop.Timer;
import dev.qbkit.qbnet.loop.TimerQueue;
import dev.qbkit.qbnet.packet.IpPacket;

final class ScriptedNat implements NatContext {
    static final byte[] BOARD = { 10, 113, 98, 2 };
    static final byte[] REMOTE = { (byte) 192, 0, 2, 10 };
    static final int BOARD_PORT = 40000;
    static final int REMOTE_PORT = 80;
    static final int ISS = 1_000_000;

    long now = 1_000_000_000L;
    /** Our initial sequence number for the next flow. */
    int iss = ISS;
    final TimerQueue timers = new TimerQueue();
    final Stats stats = new Stats();
    final BufferPool buffers;
    final LinkWaiters waiters = new LinkWaiters();
    final NatConfig config;
    final ArrayDeque<byte[]> sent = new ArrayDeque<>();
    final List<FakeSocket> sockets = new ArrayList<>();
    final TcpTable table;
    final IcmpTable icmp;
    private final List<TcpFlow> ackQueue = new ArrayList<>();
    boolean congested;
    boolean offload;
    /** A bug's stand-in: the next packet begun throws this. */
    RuntimeException failNextBegin;
    /** For each packet sent: its offload header as "gso=N start=N offset=N", or "" for a plain frame. */
    final ArrayDeque<String> offloadHeaders = new ArrayDeque<>();
    private final ByteBuffer bundle = ByteBuffer.allocate(1 << 20);
    private int packetAt;
    /** When set, packets go here (a real LinkOutput) instead of into {@link #sent}. */
    private final PacketOutput external;

    ScriptedNat() {
        this(NatConfig.defaults().withMtu(1500));
    }

    ScriptedNat(NatConfig config) {
        this(config, null);
    }

    /** A NAT whose packets go to {@code output}, as a board session's do. */
    ScriptedNat(NatConfig config, PacketOutput output) {
        this.config = config;
        this.external = output;
        this.buffers = new BufferPool(config.maxBufferedBytes(), 8);
        this.table = new TcpTable(this, new Policy(config), () -> {
            FakeSocket s = new FakeSocket();
            sockets.add(s);
            return s;
        }, () -> iss, () -> List.of(new InetSocketAddress("127.0.0.53", 53)));
        this.icmp = new IcmpTable(this, new Policy(config));
    }

    /** A raw IP packet from the board, to the ICMP table; the round ends. */
    void boardIcmp(byte[] packet) {
        IpPacket ip = new IpPacket();
        if (!ip.parse(ByteBuffer.wrap(packet), 0, packet.length))
            throw new AssertionError("test built a bad packet");
        icmp.onPacket(ip);
        endRound();
    }

    FakeSocket socket() {
        return sockets.getLast();
    }

    TcpFlow flow() {
        return table.get(new FlowKey(6, BOARD, BOARD_PORT, REMOTE, REMOTE_PORT));
    }

    /** A forwarded flow: board port, gateway side port. */
    TcpFlow flow(int boardPort, int gatewayPort) {
        return table.get(new FlowKey(6, BOARD, boardPort, new byte[] { 10, 113, 98, 1 }, gatewayPort));
    }

    /** The board sends a segment; the loop round ends (acks flushed). */
    void board(Segment s) {
        boardInOneRound(s);
    }

    /** Segments that arrive in one bundle: handled, then one end of round. */
    void boardInOneRound(Segment... segments) {
        for (Segment s : segments) {
            byte[] packet = s.toPacket(BOARD, REMOTE);
            IpPacket ip = new IpPacket();
            if (!ip.parse(ByteBuffer.wrap(packet), 0, packet.length))
                throw new AssertionError("test built a bad packet");
            table.onPacket(ip);
        }
        endRound();
    }

    void endRound() {
        for (TcpFlow f : new ArrayList<>(ackQueue))
            f.flushAck();
        ackQueue.clear();
        if (!output().congested())
            waiters.drain(this.output());
    }

    void advance(long nanos) {
        now += nanos;
        timers.runDue(now);
        endRound();
    }

    /** The next packet the NAT sent the board, parsed. */
    Segment next() {
        byte[] p = sent.poll();
        if (p == null)
            throw new AssertionError("the NAT sent nothing");
        String header = offloadHeaders.poll();
        return Segment.parse(p, REMOTE, BOARD, header != null && !header.isEmpty());
    }

    boolean nothingSent() {
        return sent.isEmpty();
    }

    // ---- NatContext --------------------------------------------------------

    @Override
    public long now() {
        return now;
    }

    @Override
    public void schedule(Timer timer, long deadline) {
        timers.schedule(timer, deadline);
    }

    @Override
    public void cancel(Timer timer) {
        timers.cancel(timer);
    }

    @Override
    public PacketOutput output() {
        if (external != null)
            return external;
        return new PacketOutput() {
            @Override
            public int begin(int maxLength) {
                RuntimeException failure = failNextBegin;
                failNextBegin = null;
                if (failure != null)
                    throw failure;
                packetAt = 0;
                bundle.clear();
                return 0;
            }

            @Override
            public ByteBuffer buffer() {
                return bundle;
            }

            @Override
            public void commit(int length) {
                byte[] p = new byte[length];
                bundle.get(packetAt, p);
                sent.add(p);
                offloadHeaders.add("");
            }

            @Override
            public void abortPacket() {
                // nothing is collected before commit
            }

            @Override
            public int beginOffload(int maxLength) {
                return begin(maxLength);
            }

            @Override
            public void commitOffload(int length, int gsoSize, int csumStart, int csumOffset) {
                commit(length);
                offloadHeaders.removeLast();
                offloadHeaders.add("gso=" + gsoSize + " start=" + csumStart + " offset=" + csumOffset);
            }

            @Override
            public boolean offload() {
                return offload;
            }

            @Override
            public boolean congested() {
                return congested;
            }
        };
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
        return 0;
    }

    final List<String> limitLog = new ArrayList<>();

    @Override
    public void limitHit(Counter counter, String message) {
        stats.inc(counter);
        limitLog.add(message);
    }

    @Override
    public void ackLater(TcpFlow flow) {
        ackQueue.add(flow);
    }

    @Override
    public void flowClosed(TcpFlow flow) {
        table.onFlowClosed(flow);
    }

    @Override
    public void flowInTimeWait(TcpFlow flow) {
        table.onTimeWait(flow);
    }

    /** Flows reset after an internal error, with what they threw. */
    final List<RuntimeException> flowFailures = new ArrayList<>();

    @Override
    public void flowFailed(FlowKey key, RuntimeException cause) {
        stats.inc(Counter.DROP_TCP_FLOW_FAILED);
        flowFailures.add(cause);
    }
}
