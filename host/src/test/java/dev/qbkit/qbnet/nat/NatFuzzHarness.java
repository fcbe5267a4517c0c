// A whole board NAT (TCP, UDP with the DNS proxy, ICMP) driven by generated
// actions for the robustness properties: fake host sockets and a manual clock
// (ScriptedNat), UDP only to loopback sinks, and the checks run after each step.
package dev.qbkit.qbnet.nat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.qbkit.qbnet.loop.EventLoop;
import dev.qbkit.qbnet.packet.Checksum;
import dev.qbkit.qbnet.packet.IpPacket;
import dev.qbkit.qbnet.packet.IpProtocol;
import dev.qbkit.qbnet.packet.TcpHeader;

final class NatFuzzHarness implements AutoCloseable {
    static final byte[] BOARD4 = ScriptedNat.BOARD;
    static final byte[] GATEWAY4 = { 10, 113, 98, 1 };
    static final byte[] DNS4 = { 10, 113, 98, 3 };
    static final byte[] REMOTE4 = ScriptedNat.REMOTE;
    static final byte[] BOARD6 = v6("fd71:6200::2");
    static final byte[] GATEWAY6 = v6("fd71:6200::1");
    static final byte[] DNS6 = v6("fd71:6200::3");
    static final byte[] REMOTE6 = v6("2001:db8::10");
    static final int ISS = ScriptedNat.ISS;

    /** Where UDP the policy lets out (gateway = host loopback) lands: sockets of this test. */
    private static final DatagramChannel SINK4 = sink(StandardProtocolFamily.INET, "127.0.0.1");
    private static final DatagramChannel SINK6 = sink(StandardProtocolFamily.INET6, "::1");

    // ---- actions ------------------------------------------------------------

    sealed interface Action {
    }

    /** The board sends these bytes as one IP frame. */
    record Packet(byte[] bytes, String what) implements Action {
        @Override
        public String toString() {
            return "Packet(" + what + ", " + bytes.length + " bytes)";
        }
    }

    /**
     * The board answers the {@code pick}-th latest TCP segment the NAT sent it:
     * 0 ack, 1 ack with data, 2 FIN, 3 RST, 4 RST|ACK, 5 an old ack, 6 zero window,
     * 7 data beyond a hole, 8 the SYN again, 9 data overlapping what was sent.
     */
    record Reply(int pick, int kind, int length) implements Action {
    }

    /** A pending host connect ends: 0 connected, 1 refused, 2 no route, 3 network unreachable. */
    record Connect(int pick, int outcome) implements Action {
    }

    record RemoteSends(int pick, int length) implements Action {
    }

    record RemoteCloses(int pick) implements Action {
    }

    /** The host socket takes {@code room} more bytes, then says writable. */
    record WriteRoom(int pick, int room) implements Action {
    }

    record BreakSocket(int pick) implements Action {
    }

    record Advance(long nanos) implements Action {
    }

    record Congest(boolean on) implements Action {
    }

    record DnsAnswer(boolean ok) implements Action {
    }

    record EchoReply(int pick) implements Action {
    }

    /** A host client connects to a forward into the board's {@code boardPort}. */
    record Forward(int boardPort, boolean v6) implements Action {
    }

    // ---- the NAT under test ---------------------------------------------------

    final ScriptedNat nat;
    final UdpTable udp;
    final DnsProxy dns;
    /**
     * Never started, shared by every harness of the JVM (a fuzzing run makes
     * thousands): the UDP sockets register here, and each close runs one
     * round on the calling thread to drop the keys of the closed channels.
     */
    private static final EventLoop UDP_LOOP = udpLoop();
    private final EventLoop udpLoop = UDP_LOOP;
    private final ArrayDeque<Runnable> loopTasks = new ArrayDeque<>();
    private final HeldResolver resolver = new HeldResolver();
    private final List<Object[]> echoes = new ArrayList<>();
    private final List<FakeSocket> forwardSockets = new ArrayList<>();
    private final Set<FakeSocket> connectDone = new HashSet<>();
    private final ArrayDeque<Segment6> toBoard = new ArrayDeque<>();
    /** The link's receive buffer, reused for every frame as a link reuses it (harnesses run one at a time). */
    private static final ByteBuffer FRAME = ByteBuffer.allocateDirect(128 * 1024);
    private final ByteBuffer frame = FRAME;
    private static final byte[] POISON = filled(128 * 1024, (byte) 0xEE);
    /** Check data integrity: board bytes are a function of their sequence number, host bytes of their offset. */
    private final boolean checkData;
    private final Map<FakeSocket, Integer> remoteSent = new HashMap<>();
    long packetsFromNat;
    long boardPackets;
    long tcpPayloadToBoard;
    /** Data segments to the board that carried options (SACK blocks): the ones that can overflow the MTU. */
    long sackedDataSegments;

    /** A TCP segment the NAT sent the board, with the addresses it went between. */
    record Segment6(byte[] src, byte[] dst, int srcPort, int dstPort, int seq, int ack, int flags, int window,
            int length) {
    }

    NatFuzzHarness(int mtu, boolean offload, boolean checkData) {
        NatConfig config = NatConfig.defaults().toBuilder().mtu(mtu)
                .limits(24, 6, 4 * BufferPool.CHUNK_SIZE)
                .tcpBuffers(256 * 1024, 192 * 1024)
                .maxDnsInFlight(3)
                .allowHostLoopback(true)
                .build();
        this.nat = new ScriptedNat(config);
        nat.offload = offload;
        this.checkData = checkData;
        nat.icmp.setSender(new EchoSender() {
            @Override
            public boolean available(boolean ipv6) {
                return true;
            }

            @Override
            public void send(byte[] board, InetAddress destination, int identifier, int sequence, byte[] payload) {
                echoes.add(new Object[] { board, destination, identifier, sequence, payload });
            }

            @Override
            public void close() {
            }
        });
        // UDP leaves only to the host's loopback (the gateway with --allow-host-loopback), where the sinks are.
        NatConfig udpPolicy = config.toBuilder().rules(List.of(),
                List.of(Cidr.parse("0.0.0.0/0"), Cidr.parse("::/0"))).build();
        this.dns = new DnsProxy(nat, loopTasks::add,
                new DnsUpstreams(servers -> resolver, List.of(new InetSocketAddress("127.0.0.1", 53))));
        this.udp = new UdpTable(nat, udpLoop, new Policy(udpPolicy), dns);
    }

    // ---- running actions --------------------------------------------------------

    void run(Action a) {
        int before = nat.sent.size();
        switch (a) {
            case Packet p -> boardPacket(p.bytes());
            case Reply r -> reply(r);
            case Connect c -> connect(c);
            case RemoteSends s -> {
                FakeSocket sock = pickOpen(s.pick());
                if (sock != null) {
                    int offset = remoteSent.getOrDefault(sock, 0);
                    byte[] data = new byte[s.length()];
                    for (int i = 0; i < data.length; i++)
                        data[i] = hostByte(sock, offset + i);
                    remoteSent.put(sock, offset + data.length);
                    sock.remoteSends(data);
                }
            }
            case RemoteCloses c -> {
                FakeSocket sock = pickOpen(c.pick());
                if (sock != null)
                    sock.remoteCloses();
            }
            case WriteRoom w -> {
                FakeSocket sock = pickOpen(w.pick());
                if (sock != null) {
                    sock.writeRoom = sock.writeRoom == Integer.MAX_VALUE ? w.room() : sock.writeRoom + w.room();
                    if (sock.wantWrite)
                        sock.listener.onWritable();
                }
            }
            case BreakSocket b -> {
                FakeSocket sock = pickOpen(b.pick());
                if (sock != null) {
                    sock.failWrites = new IOException("Broken pipe");
                    if (sock.wantWrite)
                        sock.listener.onWritable();
                }
            }
            case Advance adv -> {
                nat.now += adv.nanos();
                nat.timers.runDue(nat.now);
            }
            case Congest c -> nat.congested = c.on();
            case DnsAnswer d -> resolver.answerNext(d.ok());
            case EchoReply e -> {
                if (!echoes.isEmpty()) {
                    Object[] req = echoes.get(Math.floorMod(e.pick(), echoes.size()));
                    nat.icmp.onEchoReply((byte[]) req[0], (InetAddress) req[1], (int) req[2], (int) req[3],
                            (byte[]) req[4]);
                }
            }
            case Forward f -> {
                FakeSocket sock = new FakeSocket();
                forwardSockets.add(sock);
                nat.table.forward(sock, new InetSocketAddress("127.0.0.1", 50000 + forwardSockets.size()),
                        f.v6() ? GATEWAY6 : GATEWAY4, f.v6() ? BOARD6 : BOARD4, f.boardPort());
            }
        }
        endRound();
        checkNewPackets(before);
        checkBounds();
    }

    /** One loop round: level-triggered readiness as a Selector reports it, tasks, then the round's flush. */
    private void endRound() {
        for (FakeSocket s : allSockets()) {
            if (s.closed || s.listener == null)
                continue;
            if (s.wantRead && (s.incoming.hasRemaining() || s.remoteEof))
                s.listener.onReadable();
            if (!s.closed && s.wantWrite && (s.writeRoom > 0 || s.failWrites != null))
                s.listener.onWritable();
        }
        Runnable task;
        while ((task = loopTasks.poll()) != null)
            task.run();
        nat.endRound();
    }

    /** Hands one frame to the NAT as Nat.onPacket does, from a reused direct buffer at an odd offset. */
    void boardPacket(byte[] bytes) {
        boardPackets++;
        int at = 13;
        frame.clear();
        frame.put(at, bytes);
        IpPacket ip = new IpPacket();
        long dropsBefore = nat.stats.totalDrops();
        if (!ip.parse(frame, at, bytes.length)) {
            nat.stats.inc(ip.reject() == IpPacket.Reject.FRAGMENT ? Counter.DROP_IP_FRAGMENT : Counter.DROP_IP_MALFORMED);
        } else if (!Nat.isUsableSource(frame, ip.sourceOffset(), ip.isIpv6())) {
            nat.stats.inc(Counter.DROP_IP_BAD_SOURCE);
        } else {
            switch (ip.protocol()) {
                case IpProtocol.TCP -> {
                    TcpHeader seg = new TcpHeader();
                    boolean malformed = !seg.parse(frame, ip.payloadOffset(), ip.payloadLength());
                    FlowKey key = malformed ? null : FlowKey.ofBoardPacket(ip, seg.sourcePort(), seg.destinationPort());
                    TcpFlow existing = malformed ? null : nat.table.get(key);
                    nat.table.onPacket(ip);
                    TcpFlow now = malformed ? null : nat.table.get(key);
                    if (now != null && now != existing)
                        irsOf.put(now, seg.seq()); // a SYN opened this flow
                    if (malformed)
                        assertTrue(nat.stats.totalDrops() > dropsBefore, "a malformed TCP header was not counted");
                }
                case IpProtocol.UDP -> {
                    int u = ip.payloadOffset();
                    boolean malformed = ip.payloadLength() < 8 || (frame.getShort(u + 4) & 0xffff) < 8
                            || (frame.getShort(u + 4) & 0xffff) > ip.payloadLength()
                            || frame.getShort(u) == 0;
                    boolean toHost = java.util.Arrays.equals(ip.destination(), ip.isIpv6() ? GATEWAY6 : GATEWAY4);
                    if (toHost && !malformed) {
                        // Real datagrams leave here: only ever to this test's sink on loopback.
                        if (ip.isIpv6() && !hasIpv6Sink())
                            break;
                        frame.putShort(u + 2, (short) sinkPort(ip.isIpv6()));
                    }
                    long malformedBefore = nat.stats.get(Counter.DROP_UDP_MALFORMED);
                    udp.onPacket(ip);
                    if (malformed)
                        assertEquals(malformedBefore + 1, nat.stats.get(Counter.DROP_UDP_MALFORMED),
                                "a malformed UDP header was not counted");
                }
                case IpProtocol.ICMP, IpProtocol.ICMPV6 -> nat.icmp.onPacket(ip);
                default -> nat.stats.inc(Counter.DROP_IP_PROTOCOL);
            }
        }
        // The link reuses its buffer for the next bundle: nothing may keep pointing into it.
        frame.put(0, POISON);
    }

    private void reply(Reply r) {
        if (toBoard.isEmpty())
            return;
        // A board answers its live connections; segments of flows already gone are answered less often.
        List<Segment6> recent = new ArrayList<>();
        for (Segment6 seg : toBoard)
            if (socketOf(seg) != null)
                recent.add(seg);
        if (recent.isEmpty() || r.length() % 5 == 0)
            recent = new ArrayList<>(toBoard);
        Segment6 s = recent.get(recent.size() - 1 - Math.floorMod(r.pick(), recent.size()));
        int theirNext = s.seq() + s.length() + ((s.flags() & TcpHeader.SYN) != 0 ? 1 : 0)
                + ((s.flags() & TcpHeader.FIN) != 0 ? 1 : 0);
        int seq = s.ack();
        int ack = theirNext;
        int window = 502;
        int flags = TcpHeader.ACK;
        int length = 0;
        switch (r.kind()) {
            case 1 -> length = r.length();
            case 2 -> flags |= TcpHeader.FIN;
            case 3 -> flags = TcpHeader.RST;
            case 4 -> flags = TcpHeader.RST | TcpHeader.ACK;
            case 5 -> ack = s.seq();
            case 6 -> window = 0;
            case 7 -> {
                seq += 1 + r.length();
                length = 1 + r.length() % 3000;
            }
            case 8 -> {
                seq -= 1;
                flags = TcpHeader.SYN;
            }
            case 9 -> {
                seq -= Math.min(r.length(), 100);
                length = r.length() + 50;
            }
            default -> {
            }
        }
        byte[] payload = new byte[length];
        for (int i = 0; i < length; i++)
            payload[i] = boardByte(seq + i);
        byte[] options = (flags & TcpHeader.SYN) != 0 ? dev.qbkit.qbnet.robust.Packets.synOptions(1460, 7, true)
                : new byte[0];
        boardPacket(dev.qbkit.qbnet.robust.Packets.tcp(s.dst(), s.src(), s.dstPort(), s.srcPort(), seq,
                (flags & TcpHeader.ACK) != 0 ? ack : 0, flags, window, options, payload));
    }

    private void connect(Connect c) {
        List<FakeSocket> waiting = new ArrayList<>();
        for (FakeSocket s : nat.sockets)
            if (s.listener != null && !connectDone.contains(s) && !s.closed)
                waiting.add(s);
        if (waiting.isEmpty())
            return;
        FakeSocket s = waiting.get(Math.floorMod(c.pick(), waiting.size()));
        connectDone.add(s);
        switch (c.outcome()) {
            case 0 -> s.listener.onConnected();
            case 1 -> s.listener.onConnectFailed(new ConnectException("Connection refused"));
            case 2 -> s.listener.onConnectFailed(new NoRouteToHostException("No route to host"));
            default -> s.listener.onConnectFailed(new IOException("Network is unreachable"));
        }
    }

    private List<FakeSocket> allSockets() {
        List<FakeSocket> all = new ArrayList<>(nat.sockets);
        all.addAll(forwardSockets);
        return all;
    }

    private FakeSocket pickOpen(int pick) {
        List<FakeSocket> open = new ArrayList<>();
        for (FakeSocket s : allSockets())
            if (s.listener != null && !s.closed && (connectDone.contains(s) || forwardSockets.contains(s)))
                open.add(s);
        return open.isEmpty() ? null : open.get(Math.floorMod(pick, open.size()));
    }

    // ---- data the test can recognise --------------------------------------------

    /** The byte a board sends at sequence number {@code seq}: the same whenever it is (re)sent. */
    static byte boardByte(int seq) {
        return (byte) (seq * 7 + (seq >>> 11) + 3);
    }

    /** The byte a host peer sends at stream offset {@code offset}. */
    static byte hostByte(FakeSocket s, int offset) {
        return (byte) (offset * 13 + (offset >>> 9) + 5);
    }

    // ---- checks ---------------------------------------------------------------------

    /** Every packet the NAT wrote is well formed, fits the MTU, and its data is what the peers sent. */
    private void checkNewPackets(int before) {
        List<byte[]> packets = new ArrayList<>(nat.sent);
        List<String> headers = new ArrayList<>(nat.offloadHeaders);
        assertEquals(packets.size(), headers.size(), "offload headers out of step with packets");
        for (int i = 0; i < packets.size(); i++)
            checkPacket(packets.get(i), !headers.get(i).isEmpty());
        nat.sent.clear();
        nat.offloadHeaders.clear();
        packetsFromNat += packets.size();
    }

    private void checkPacket(byte[] p, boolean offloaded) {
        ByteBuffer b = ByteBuffer.wrap(p);
        IpPacket ip = new IpPacket();
        if (!ip.parse(b, 0, p.length))
            fail("the NAT wrote a malformed IP packet: " + ip.reject());
        assertEquals(p.length, ip.length(), "IP length field");
        if (offloaded)
            assertTrue(p.length <= 65535, () -> "offload frame of " + p.length + " bytes");
        else
            assertTrue(p.length <= nat.config.mtu(), () -> "packet of " + p.length + " bytes over MTU " + nat.config.mtu());
        if (!ip.isIpv6())
            assertEquals(0, Checksum.finish(Checksum.add(b, 0, 20, 0)), "IPv4 header checksum");
        int proto = ip.protocol();
        if (proto == IpProtocol.TCP || proto == IpProtocol.UDP || proto == IpProtocol.ICMPV6) {
            long pseudo = Checksum.pseudoHeader(b, 0, ip.isIpv6(), proto, ip.payloadLength());
            if (!offloaded)
                assertEquals(0, Checksum.finish(Checksum.add(b, ip.payloadOffset(), ip.payloadLength(), pseudo)),
                        "transport checksum of protocol " + proto);
        } else if (proto == IpProtocol.ICMP) {
            assertEquals(0, Checksum.finish(Checksum.add(b, ip.payloadOffset(), ip.payloadLength(), 0)), "ICMP checksum");
        } else {
            fail("the NAT wrote protocol " + proto);
        }
        if (proto != IpProtocol.TCP)
            return;
        TcpHeader t = new TcpHeader();
        assertTrue(t.parse(b, ip.payloadOffset(), ip.payloadLength()), "the NAT wrote a malformed TCP header");
        if (t.has(TcpHeader.SYN))
            assertTrue(t.mss() > 0 && t.mss() <= nat.config.mtu() - (ip.isIpv6() ? 60 : 40), () -> "MSS " + t.mss());
        Segment6 s = new Segment6(ip.source(), ip.destination(), t.sourcePort(), t.destinationPort(), t.seq(), t.ack(),
                t.flags(), t.window(), t.payloadLength());
        tcpPayloadToBoard += t.payloadLength();
        if (t.payloadLength() > 0 && t.payloadOffset() - ip.payloadOffset() > 20)
            sackedDataSegments++;
        toBoard.addLast(s);
        if (toBoard.size() > 16)
            toBoard.removeFirst();
        if (checkData)
            checkDataToBoard(b, t, s);
    }

    /** Host data in a segment to the board is the host peer's bytes at that offset, and acks cover only data delivered or held for the host. */
    private void checkDataToBoard(ByteBuffer b, TcpHeader t, Segment6 s) {
        FakeSocket sock = socketOf(s);
        if (sock == null)
            return;
        TcpFlow flow = (TcpFlow) sock.listener;
        int sent = remoteSent.getOrDefault(sock, 0);
        for (int j = 0; j < t.payloadLength(); j++) {
            int offset = t.seq() - (ISS + 1) + j;
            // Messages only on failure: this runs for every byte of every segment.
            if (offset < 0 || offset >= sent)
                fail("the NAT sent the board byte " + offset + " that its host peer never sent");
            if (hostByte(sock, offset) != b.get(t.payloadOffset() + j))
                assertEquals(hostByte(sock, offset), b.get(t.payloadOffset() + j), "host byte " + offset + " of " + flow.key());
        }
        if (t.has(TcpHeader.ACK) && !t.has(TcpHeader.SYN) && irsOf.containsKey(flow)) {
            int acked = t.ack() - (irsOf.get(flow) + 1);
            int delivered = sock.written.size() + (sock.outputShut ? 1 : 0) + flow.heldForHost();
            assertTrue(acked <= delivered || flow.state() == TcpFlow.State.CLOSED, () -> "acked " + acked
                    + " board bytes but only " + delivered + " reached the host socket or wait for it: data would be lost silently");
        }
    }

    /** The initial sequence number the board's SYNs use on a port. */
    static int irsFor(int boardPort) {
        return boardPort * 7919 + 12345;
    }

    /** The board's initial sequence number of each flow it opened, seen as its SYN went in. */
    private final Map<TcpFlow, Integer> irsOf = new HashMap<>();

    /** The host socket of the flow a segment to the board belongs to. */
    private FakeSocket socketOf(Segment6 seg) {
        for (FakeSocket s : allSockets())
            if (s.listener instanceof TcpFlow f && f.state() != TcpFlow.State.CLOSED
                    && f.key().equals(new FlowKey(IpProtocol.TCP, seg.dst(), seg.dstPort(), seg.src(), seg.srcPort())))
                return s;
        return null;
    }

    private final Map<FakeSocket, Integer> checkedWritten = new HashMap<>();

    /** Whatever the host sockets received is the board's bytes in sequence order. */
    private void checkDataToHost() {
        for (FakeSocket s : allSockets()) {
            if (!(s.listener instanceof TcpFlow f) || !irsOf.containsKey(f))
                continue;
            byte[] w = s.written.toByteArray();
            int irs = irsOf.get(f);
            for (int i = checkedWritten.getOrDefault(s, 0); i < w.length; i++)
                if (boardByte(irs + 1 + i) != w[i])
                    assertEquals(boardByte(irs + 1 + i), w[i], "byte " + i + " to the host socket of " + f.key());
            checkedWritten.put(s, w.length);
        }
    }

    /** Bytes the host sockets took from the board, all flows. */
    long bytesToHost() {
        long n = 0;
        for (FakeSocket s : allSockets())
            n += s.written.size();
        return n;
    }

    /** Memory and tables stay within the configured caps whatever came in. */
    void checkBounds() {
        NatConfig c = nat.config;
        long inUse = nat.buffers.inUseBytes();
        assertTrue(inUse >= 0 && inUse <= c.maxBufferedBytes(), () -> "buffered " + inUse + " of " + c.maxBufferedBytes());
        assertTrue(nat.table.size() <= c.maxTcpFlows(), () -> nat.table.size() + " TCP flows");
        assertTrue(udp.size() <= c.maxUdpFlows(), () -> udp.size() + " UDP mappings");
        assertTrue(dns.inFlight() <= c.maxDnsInFlight(), () -> dns.inFlight() + " DNS queries in flight");
        long held = 0;
        for (FakeSocket s : allSockets())
            if (s.listener instanceof TcpFlow f && f.state() != TcpFlow.State.CLOSED) {
                held += f.bufferedBytes();
                assertTrue(f.bufferedBytes() <= c.tcpReceiveWindow() + c.tcpSendBuffer() + 2 * BufferPool.CHUNK_SIZE,
                        () -> "one flow holds " + f.bufferedBytes());
            }
        long total = held;
        assertTrue(total <= c.maxBufferedBytes(), () -> "flows hold " + total + " bytes");
        if (checkData)
            checkDataToHost();
    }

    // ---- endings ----------------------------------------------------------------------

    /**
     * The board goes quiet: DNS answers come (as failures), and time runs until
     * no timer is left. Returns the simulated seconds that took.
     */
    long drainByTime() {
        while (resolver.waiting() > 0)
            run(new DnsAnswer(false));
        long start = nat.now;
        long limit = start + Duration.ofHours(3).toNanos();
        int rounds = 0;
        while (nat.timers.nextDeadline() != Long.MAX_VALUE && nat.now - limit < 0) {
            if (++rounds > 100_000)
                fail("more than 100000 timer rounds in 3 hours of silence: a timer storm");
            long next = Math.max(nat.timers.nextDeadline(), nat.now + 1);
            run(new Advance(next - nat.now));
        }
        assertEquals(Long.MAX_VALUE, nat.timers.nextDeadline(),
                "timers still armed after 3 hours of silence: a flow keeps itself alive");
        return (nat.now - start) / 1_000_000_000L;
    }

    /** The board is gone: everything is dropped at once (BoardSession.onClosed). */
    void discardAll() {
        nat.table.discardAll();
        udp.closeAll();
        nat.icmp.close();
        dns.close();
        endRound();
        checkBounds();
    }

    /** After either ending: no flow, no mapping, no buffer, no open host socket. */
    void assertNothingLeft() {
        assertEquals(0, nat.table.size(), "TCP flows left: " + nat.table.countByState());
        assertEquals(0, udp.size(), "UDP mappings left");
        assertEquals(0, nat.buffers.inUseBytes(), "buffered bytes left");
        for (FakeSocket s : allSockets())
            if (s.listener != null)
                assertTrue(s.closed, "a host socket was left open (" + s.connectedTo + ")");
        assertEquals(nat.stats.get(Counter.TCP_FLOWS_OPENED), nat.stats.get(Counter.TCP_FLOWS_CLOSED),
                "TCP flows opened vs closed");
        assertEquals(nat.stats.get(Counter.UDP_FLOWS_OPENED), nat.stats.get(Counter.UDP_FLOWS_CLOSED),
                "UDP mappings opened vs closed");
    }

    @Override
    public void close() {
        udp.closeAll();
        try {
            udpLoop.runOnce(); // deregisters the closed channels, so their sockets are released now
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        assertEquals(0, udpLoop.registeredChannels(), "UDP sockets still registered after the harness closed");
    }

    private static EventLoop udpLoop() {
        try {
            return new EventLoop("nat-fuzz");
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    // ---- helpers --------------------------------------------------------------------------

    static boolean hasIpv6Sink() {
        return SINK6 != null;
    }

    static int sinkPort(boolean v6) {
        try {
            DatagramChannel s = v6 ? SINK6 : SINK4;
            return ((InetSocketAddress) s.getLocalAddress()).getPort();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static DatagramChannel sink(StandardProtocolFamily family, String address) {
        try {
            DatagramChannel c = DatagramChannel.open(family);
            c.bind(new InetSocketAddress(InetAddress.getByName(address), 0));
            c.configureBlocking(false);
            Thread drain = Thread.ofPlatform().daemon().name("nat-fuzz-sink").start(() -> {
                ByteBuffer b = ByteBuffer.allocate(65536);
                try (java.nio.channels.Selector sel = java.nio.channels.Selector.open()) {
                    c.register(sel, java.nio.channels.SelectionKey.OP_READ);
                    while (true) {
                        sel.select();
                        sel.selectedKeys().clear();
                        while (c.receive(b.clear()) != null) {
                            // datagrams the NAT let out: dropped here, on this host's loopback
                        }
                    }
                } catch (IOException e) {
                    // the JVM is ending
                }
            });
            assert drain.isAlive();
            return c;
        } catch (IOException e) {
            return null; // no IPv6 loopback here
        }
    }

    private static byte[] filled(int length, byte value) {
        byte[] b = new byte[length];
        java.util.Arrays.fill(b, value);
        return b;
    }

    static byte[] v6(String literal) {
        return NatConfig.v6(literal).getAddress();
    }
}
