// Robustness properties of a whole board NAT (NatFuzzHarness): whatever the
// board sends and however the host side behaves, nothing throws, memory and
// tables stay under their caps, data is neither corrupted nor acked unsent,
// and once the flows end nothing is left: no flow, buffer, socket or timer.
package dev.qbkit.qbnet.nat;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Random;

import dev.qbkit.qbnet.nat.NatFuzzHarness.Action;
import dev.qbkit.qbnet.packet.TcpHeader;
import dev.qbkit.qbnet.robust.Packets;
import dev.qbkit.qbnet.robust.ScaledTries;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tag;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.statistics.Statistics;

@Tag("robust")
@AddLifecycleHook(ScaledTries.class)
class NatPropertyTest {
    static final int[] BOARD_PORTS = { 40000, 40001, 40002, 53000 };
    static final int[] REMOTE_PORTS = { 80, 443, 53, 7 };

    // ---- board packets ------------------------------------------------------

    /** Where a board packet goes: the internet, the gateway (host loopback), the virtual DNS. */
    static byte[][] addresses(boolean v6, int where) {
        byte[] board = v6 ? NatFuzzHarness.BOARD6 : NatFuzzHarness.BOARD4;
        byte[] to = switch (where) {
            case 0 -> v6 ? NatFuzzHarness.REMOTE6 : NatFuzzHarness.REMOTE4;
            case 1 -> v6 ? NatFuzzHarness.GATEWAY6 : NatFuzzHarness.GATEWAY4;
            default -> v6 ? NatFuzzHarness.DNS6 : NatFuzzHarness.DNS4;
        };
        return new byte[][] { board, to };
    }

    /** A well-formed board packet: TCP (seq/ack near what a real peer would use), UDP, DNS, ICMP. */
    static Arbitrary<byte[]> structuredPacket(boolean checkData) {
        Arbitrary<Boolean> v6 = Arbitraries.of(false, false, true);
        Arbitrary<Integer> where = Arbitraries.of(0, 0, 0, 1, 2);
        Arbitrary<Integer> boardPort = Arbitraries.of(BOARD_PORTS[0], BOARD_PORTS[1], BOARD_PORTS[2], BOARD_PORTS[3]);
        Arbitrary<Integer> remotePort = Arbitraries.of(REMOTE_PORTS[0], REMOTE_PORTS[1], REMOTE_PORTS[2], REMOTE_PORTS[3]);
        Arbitrary<byte[]> syn = Combinators.combine(v6, where, boardPort, remotePort, Arbitraries.integers().between(-1, 9000),
                Arbitraries.integers().between(-1, 15), Arbitraries.of(true, false)).as((six, w, bp, rp, mss, scale, sack) -> {
                    byte[][] a = addresses(six, w);
                    return Packets.tcp(a[0], a[1], bp, rp, NatFuzzHarness.irsFor(bp), 0, TcpHeader.SYN, 64240,
                            Packets.synOptions(mss, scale, sack), new byte[0]);
                });
        // A segment of an existing or imagined connection: seq around the board's ISN, ack around ours.
        Arbitrary<byte[]> segment = Combinators.combine(v6, where, boardPort, remotePort,
                Arbitraries.frequencyOf(Tuple.of(4, Arbitraries.integers().between(-3, 3000)),
                        Tuple.of(1, Arbitraries.integers().between(-3, 300_000))),
                Arbitraries.frequencyOf(Tuple.of(4, Arbitraries.integers().between(-3, 3000)),
                        Tuple.of(1, Arbitraries.integers().between(-3, 300_000))),
                Arbitraries.frequencyOf(Tuple.of(6, Arbitraries.of(TcpHeader.ACK, TcpHeader.ACK | TcpHeader.PSH)),
                        Tuple.of(1, Arbitraries.of(TcpHeader.ACK | TcpHeader.FIN, TcpHeader.RST, TcpHeader.RST | TcpHeader.ACK,
                                TcpHeader.SYN | TcpHeader.ACK, TcpHeader.FIN, 0, 0xff))),
                Arbitraries.integers().between(0, 3000)).as((six, w, bp, rp, seqOffset, ackOffset, flags, length) -> {
                    byte[][] a = addresses(six, w);
                    int seq = NatFuzzHarness.irsFor(bp) + 1 + seqOffset;
                    byte[] payload = new byte[length];
                    for (int i = 0; i < length; i++)
                        payload[i] = NatFuzzHarness.boardByte(seq + i);
                    return Packets.tcp(a[0], a[1], bp, rp, seq, NatFuzzHarness.ISS + 1 + ackOffset, flags,
                            (seqOffset * 31 + 502) & 0xffff, new byte[0], payload);
                });
        Arbitrary<byte[]> udp = Combinators.combine(v6, Arbitraries.of(0, 1, 1, 1, 2), boardPort, Arbitraries.of(53, 7, 9, 123),
                Arbitraries.integers().between(0, 1600)).as((six, w, bp, rp, length) -> {
                    byte[][] a = addresses(six, w);
                    return Packets.udp(a[0], a[1], bp, rp, new byte[length]);
                });
        Arbitrary<byte[]> dns = Combinators.combine(v6, Arbitraries.integers().between(0, 0xffff), Arbitraries.of(1, 28, 16),
                Arbitraries.of(false, true)).as((six, id, type, edns) -> {
                    byte[][] a = addresses(six, 2);
                    return Packets.udp(a[0], a[1], 53000, 53, dnsQuery(id, type, edns));
                });
        Arbitrary<byte[]> icmp = Combinators.combine(v6, Arbitraries.of(0, 1, 2), Arbitraries.of(8, 128, 0, 3, 133, 143),
                Arbitraries.integers().between(0, 0xffff), Arbitraries.integers().between(0, 1400))
                .as((six, w, type, id, length) -> {
                    byte[][] a = addresses(six, w);
                    return Packets.icmp(a[0], a[1], type, id, id ^ 0x5555, new byte[length]);
                });
        if (checkData)
            return Arbitraries.frequencyOf(Tuple.of(3, syn), Tuple.of(4, segment));
        return Arbitraries.frequencyOf(Tuple.of(3, syn), Tuple.of(4, segment), Tuple.of(2, udp), Tuple.of(1, dns),
                Tuple.of(2, icmp));
    }

    static byte[] dnsQuery(int id, int type, boolean edns) {
        ByteBuffer q = ByteBuffer.allocate(64);
        q.putShort((short) id).putShort((short) 0x0100).putShort((short) 1).putShort((short) 0).putShort((short) 0)
                .putShort((short) (edns ? 1 : 0));
        for (String label : new String[] { "www", "qbnet", "test" })
            q.put((byte) label.length()).put(label.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        q.put((byte) 0).putShort((short) type).putShort((short) 1);
        if (edns)
            q.put((byte) 0).putShort((short) 41).putShort((short) 4096).putInt(0).putShort((short) 0);
        byte[] out = new byte[q.position()];
        q.get(0, out);
        return out;
    }

    /** Structured packets, damaged ones, and noise. */
    static Arbitrary<byte[]> anyPacket() {
        Arbitrary<byte[]> good = structuredPacket(false);
        Arbitrary<byte[]> damaged = Combinators.combine(good, Arbitraries.longs()).as((p, seed) -> {
            Random r = new Random(seed);
            byte[] b = p.clone();
            for (int edits = 1 + r.nextInt(4); edits > 0 && b.length > 0; edits--) {
                switch (r.nextInt(4)) {
                    case 0 -> b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
                    case 1 -> b[r.nextInt(b.length)] = (byte) r.nextInt(256);
                    case 2 -> b = java.util.Arrays.copyOf(b, r.nextInt(b.length + 1));
                    default -> { // a header length or total length field
                        int at = r.nextInt(Math.min(b.length, 60));
                        b[at] = (byte) (r.nextBoolean() ? 0xff : 0);
                    }
                }
            }
            return b;
        });
        Arbitrary<byte[]> noise = Arbitraries.bytes().array(byte[].class).ofMaxSize(100);
        return Arbitraries.frequencyOf(Tuple.of(6, good), Tuple.of(3, damaged), Tuple.of(1, noise));
    }

    // ---- actions ------------------------------------------------------------

    static Arbitrary<Action> actions(boolean checkData) {
        Arbitrary<Integer> pick = Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.integers().between(0, 2)),
                Tuple.of(1, Arbitraries.integers().between(0, 40)));
        Arbitrary<Action> packet = (checkData ? structuredPacket(true) : anyPacket())
                .map(b -> new NatFuzzHarness.Packet(b, describe(b)));
        // Acks with data and data past a hole most: they reach reassembly, overlap and delivery.
        Arbitrary<Integer> kind = Arbitraries.frequencyOf(Tuple.of(4, Arbitraries.just(1)), Tuple.of(3, Arbitraries.just(7)),
                Tuple.of(2, Arbitraries.just(0)), Tuple.of(3, Arbitraries.integers().between(0, 9)));
        Arbitrary<Action> reply = Combinators.combine(pick, kind, Arbitraries.integers().between(1, 4000))
                .as(NatFuzzHarness.Reply::new);
        Arbitrary<Action> connect = Combinators.combine(pick, Arbitraries.of(0, 0, 0, 0, 1, 2, 3))
                .as(NatFuzzHarness.Connect::new);
        Arbitrary<Action> remoteSends = Combinators.combine(pick, Arbitraries.integers().between(1, 200_000))
                .as(NatFuzzHarness.RemoteSends::new);
        Arbitrary<Action> remoteCloses = pick.map(NatFuzzHarness.RemoteCloses::new);
        Arbitrary<Action> writeRoom = Combinators.combine(pick, Arbitraries.integers().between(0, 100_000))
                .as(NatFuzzHarness.WriteRoom::new);
        Arbitrary<Action> breakSocket = pick.map(NatFuzzHarness.BreakSocket::new);
        Arbitrary<Action> advance = Arbitraries.frequencyOf(
                Tuple.of(6, Arbitraries.of(1_000_000L, 200_000_000L, 1_000_000_000L)),
                Tuple.of(1, Arbitraries.of(5_000_000_000L, 61_000_000_000L, 600_000_000_000L)))
                .map(NatFuzzHarness.Advance::new);
        Arbitrary<Action> congest = Arbitraries.of(true, false).map(NatFuzzHarness.Congest::new);
        Arbitrary<Action> dnsAnswer = Arbitraries.of(true, false).map(NatFuzzHarness.DnsAnswer::new);
        Arbitrary<Action> echoReply = pick.map(NatFuzzHarness.EchoReply::new);
        Arbitrary<Action> forward = Combinators.combine(Arbitraries.of(22, 80, 40000), Arbitraries.of(false, true))
                .as(NatFuzzHarness.Forward::new);
        if (checkData)
            return Arbitraries.frequencyOf(Tuple.of(4, packet), Tuple.of(10, reply), Tuple.of(6, connect),
                    Tuple.of(5, remoteSends), Tuple.of(1, remoteCloses), Tuple.of(2, writeRoom), Tuple.of(2, advance),
                    Tuple.of(1, congest));
        return Arbitraries.frequencyOf(Tuple.of(8, packet), Tuple.of(6, reply), Tuple.of(3, connect),
                Tuple.of(2, remoteSends), Tuple.of(1, remoteCloses), Tuple.of(1, writeRoom), Tuple.of(1, breakSocket),
                Tuple.of(2, advance), Tuple.of(1, congest), Tuple.of(1, dnsAnswer), Tuple.of(1, echoReply),
                Tuple.of(1, forward));
    }

    static String describe(byte[] b) {
        if (b.length < 20)
            return "short";
        int version = (b[0] & 0xff) >>> 4;
        int proto = version == 6 && b.length >= 40 ? b[6] & 0xff : b[9] & 0xff;
        return "v" + version + "/" + proto;
    }

    @Provide
    Arbitrary<List<Action>> anything() {
        return actions(false).list().ofMinSize(5).ofMaxSize(60);
    }

    @Provide
    Arbitrary<List<Action>> conversations() {
        return actions(true).list().ofMinSize(10).ofMaxSize(80);
    }

    @Provide
    Arbitrary<Integer> mtus() {
        return Arbitraries.of(1280, 1500, 9000, 65520);
    }

    // ---- properties ------------------------------------------------------------

    @Property(tries = 400)
    void anyBoardInputStaysWithinBoundsAndLeavesNothingBehind(@ForAll("anything") List<Action> actions,
            @ForAll("mtus") int mtu, @ForAll boolean offload, @ForAll boolean boardVanishes) throws Exception {
        try (NatFuzzHarness h = new NatFuzzHarness(mtu, offload, false)) {
            for (Action a : actions)
                h.run(a);
            Stats s = h.nat.stats;
            // The generators must keep reaching the interesting paths, or this property tests little.
            covered("TCP flow opened", s.get(Counter.TCP_FLOWS_OPENED) > 0, 50);
            covered("malformed IP dropped", s.get(Counter.DROP_IP_MALFORMED) + s.get(Counter.DROP_TCP_MALFORMED) > 0, 25);
            covered("UDP mapping opened", s.get(Counter.UDP_FLOWS_OPENED) > 0, 5);
            covered("DNS query proxied", s.get(Counter.DNS_QUERIES) > 0, 2);
            covered("echo answered", s.get(Counter.ICMP_ECHO_REPLIES) > 0, 1);
            covered("data to the host", h.bytesToHost() > 0, 4);
            end(h, boardVanishes);
        }
    }

    @Property(tries = 300)
    void boardAndHostDataArriveIntactAndAreNeverAckedUndelivered(@ForAll("conversations") List<Action> actions,
            @ForAll("mtus") int mtu, @ForAll boolean offload) throws Exception {
        try (NatFuzzHarness h = new NatFuzzHarness(mtu, offload, true)) {
            for (Action a : actions)
                h.run(a);
            Stats s = h.nat.stats;
            covered("board data reached a host socket", h.bytesToHost() > 0, 8);
            covered("host data reached the board", h.tcpPayloadToBoard > 0, 8);
            covered("out-of-order data held", s.get(Counter.TCP_OUT_OF_ORDER_QUEUED) > 0, 3);
            covered("data segment with SACK blocks", h.sackedDataSegments > 0, 1);
            covered("retransmitted", s.get(Counter.TCP_RETRANSMITS) > 0, 8);
            covered("buffer cap reached", s.get(Counter.DROP_TCP_BUFFER_LIMIT) > 0, 1);
            end(h, false);
        }
    }

    /**
     * Every flow full at once, both ways: host peers send more than the board
     * takes and the board sends more than the host sockets take. Whatever the
     * mix, buffered bytes stay under the board's cap (checked after each step).
     */
    @Property(tries = 60)
    void bufferCapHoldsWhenEveryFlowIsFull(@ForAll @net.jqwik.api.constraints.IntRange(min = 2, max = 8) int flows,
            @ForAll @net.jqwik.api.constraints.IntRange(min = 10_000, max = 400_000) int hostBytes,
            @ForAll @net.jqwik.api.constraints.IntRange(min = 0, max = 3) int boardSegments, @ForAll boolean offload)
            throws Exception {
        try (NatFuzzHarness h = new NatFuzzHarness(9000, offload, false)) {
            for (int f = 0; f < flows; f++) {
                byte[][] a = addresses(false, 0);
                int port = 41000 + f;
                h.run(new NatFuzzHarness.Packet(Packets.tcp(a[0], a[1], port, 80, NatFuzzHarness.irsFor(port), 0,
                        TcpHeader.SYN, 64240, Packets.synOptions(8960, 7, true), new byte[0]), "syn"));
                h.run(new NatFuzzHarness.Connect(f, 0));
                h.run(new NatFuzzHarness.Reply(0, 0, 0)); // the board acks the SYN-ACK: established
                h.run(new NatFuzzHarness.WriteRoom(f, 0)); // this host socket takes nothing
            }
            for (int f = 0; f < flows; f++) {
                h.run(new NatFuzzHarness.RemoteSends(f, hostBytes));
                for (int k = 0; k < boardSegments; k++)
                    h.run(new NatFuzzHarness.Reply(0, 1, 4000)); // board data toward the stuck host socket
            }
            h.checkBounds();
            if ((long) flows * hostBytes > h.nat.config.maxBufferedBytes() + (long) flows * BufferPool.CHUNK_SIZE)
                assertTrue(h.nat.stats.get(Counter.DROP_TCP_BUFFER_LIMIT) > 0, "the cap was never reached");
            end(h, false);
        }
    }

    /** A SYN flood: thousands of SYNs to distinct ports; the table stays at its cap and empties afterwards. */
    @Property(tries = 20)
    void synFloodIsCappedAndCleared(@ForAll boolean connectSome, @ForAll boolean v6) throws Exception {
        try (NatFuzzHarness h = new NatFuzzHarness(1500, false, false)) {
            byte[][] a = addresses(v6, 0);
            for (int port = 1; port <= 3000; port++) {
                h.run(new NatFuzzHarness.Packet(Packets.tcp(a[0], a[1], 10000 + port % 50000, port, port * 77, 0,
                        TcpHeader.SYN, 1000, new byte[0], new byte[0]), "syn"));
                if (connectSome && port % 7 == 0)
                    h.run(new NatFuzzHarness.Connect(port, port % 3 == 0 ? 1 : 0));
            }
            assertTrue(h.nat.stats.get(Counter.DROP_TCP_FLOW_LIMIT) > 0, "the flood never hit the flow limit");
            end(h, false);
        }
    }

    /** Collects whether a path was reached, and fails the property when fewer than {@code minPercent} of tries reach it. */
    private static void covered(String label, boolean reached, double minPercent) {
        Statistics.label(label).collect(reached);
        Statistics.label(label).coverage(c -> c.check(true).percentage(p -> p >= minPercent));
    }

    private static void end(NatFuzzHarness h, boolean boardVanishes) {
        if (boardVanishes)
            h.discardAll();
        else
            h.drainByTime();
        h.assertNothingLeft();
    }
}
