// Fuzz tests of a whole board NAT (NatFuzzHarness, actions read by
// NatFuzzInput): whatever the board sends and however the host side behaves,
// nothing throws, memory and tables stay under their caps, data is neither
// corrupted nor acked unsent, and once the flows end nothing is left: no
// flow, buffer, socket or timer. The seed scenarios must keep reaching the
// paths these tests are about (seedsReachThePathsTheTestsAreAbout).
package dev.qbkit.qbnet.nat;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import com.code_intelligence.jazzer.junit.FuzzTest;

import dev.qbkit.qbnet.nat.NatFuzzHarness.Action;
import dev.qbkit.qbnet.packet.TcpHeader;
import dev.qbkit.qbnet.robust.FuzzInput;
import dev.qbkit.qbnet.robust.FuzzSeeds;
import dev.qbkit.qbnet.robust.Packets;

class NatFuzzTest {
    static final String ANYTHING = "anyBoardInputStaysWithinBoundsAndLeavesNothingBehind";
    static final String CONVERSATIONS = "boardAndHostDataArriveIntactAndAreNeverAckedUndelivered";

    /** Which paths a run reached, for the seed coverage check. */
    record Reached(Map<String, Boolean> paths) {
    }

    // ---- the fuzz tests ----------------------------------------------------------

    /** Input: MTU (one of NatFuzzInput.MTUS), offload, whether the board vanishes at the end; then up to 100 actions of any kind. */
    @FuzzTest
    void anyBoardInputStaysWithinBoundsAndLeavesNothingBehind(byte[] data) throws Exception {
        runAnything(data);
    }

    static Reached runAnything(byte[] data) throws Exception {
        FuzzInput in = new FuzzInput(data);
        int mtu = NatFuzzInput.MTUS[in.between(0, 3)];
        boolean offload = in.bool();
        boolean boardVanishes = in.bool();
        try (NatFuzzHarness h = new NatFuzzHarness(mtu, offload, false)) {
            for (Action a : NatFuzzInput.actions(in, NatFuzzInput.ALL, 100))
                h.run(a);
            Stats s = h.nat.stats;
            Map<String, Boolean> reached = new LinkedHashMap<>();
            reached.put("TCP flow opened", s.get(Counter.TCP_FLOWS_OPENED) > 0);
            reached.put("malformed IP dropped", s.get(Counter.DROP_IP_MALFORMED) + s.get(Counter.DROP_TCP_MALFORMED) > 0);
            reached.put("UDP mapping opened", s.get(Counter.UDP_FLOWS_OPENED) > 0);
            reached.put("DNS query proxied", s.get(Counter.DNS_QUERIES) > 0);
            reached.put("echo answered", s.get(Counter.ICMP_ECHO_REPLIES) > 0);
            reached.put("data to the host", h.bytesToHost() > 0);
            end(h, boardVanishes);
            return new Reached(reached);
        }
    }

    /** Input: MTU, offload; then up to 120 actions of a TCP conversation between good peers (NatFuzzInput.CONVERSATION). */
    @FuzzTest
    void boardAndHostDataArriveIntactAndAreNeverAckedUndelivered(byte[] data) throws Exception {
        runConversation(data);
    }

    static Reached runConversation(byte[] data) throws Exception {
        FuzzInput in = new FuzzInput(data);
        int mtu = NatFuzzInput.MTUS[in.between(0, 3)];
        boolean offload = in.bool();
        try (NatFuzzHarness h = new NatFuzzHarness(mtu, offload, true)) {
            for (Action a : NatFuzzInput.actions(in, NatFuzzInput.CONVERSATION, 120))
                h.run(a);
            Stats s = h.nat.stats;
            Map<String, Boolean> reached = new LinkedHashMap<>();
            reached.put("board data reached a host socket", h.bytesToHost() > 0);
            reached.put("host data reached the board", h.tcpPayloadToBoard > 0);
            reached.put("out-of-order data held", s.get(Counter.TCP_OUT_OF_ORDER_QUEUED) > 0);
            reached.put("data segment with SACK blocks", h.sackedDataSegments > 0);
            reached.put("retransmitted", s.get(Counter.TCP_RETRANSMITS) > 0);
            reached.put("buffer cap reached", s.get(Counter.DROP_TCP_BUFFER_LIMIT) > 0);
            end(h, false);
            return new Reached(reached);
        }
    }

    /**
     * Every flow full at once, both ways: host peers send more than the board
     * takes and the board sends more than the host sockets take. Whatever the
     * mix, buffered bytes stay under the board's cap (checked after each step).
     * Input: flows (2..8), bytes each host peer sends (10 000..400 000), board segments per flow (0..3), offload.
     */
    @FuzzTest
    void bufferCapHoldsWhenEveryFlowIsFull(byte[] data) throws Exception {
        FuzzInput in = new FuzzInput(data);
        int flows = in.between(2, 8);
        int hostBytes = in.between(10_000, 400_000);
        int boardSegments = in.between(0, 3);
        boolean offload = in.bool();
        try (NatFuzzHarness h = new NatFuzzHarness(9000, offload, false)) {
            for (int f = 0; f < flows; f++) {
                byte[][] a = NatFuzzInput.addresses(false, 0);
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

    /** A SYN flood: 3000 SYNs to distinct ports; the table stays at its cap and empties afterwards. All four cases. */
    @ParameterizedTest
    @CsvSource({ "false,false", "false,true", "true,false", "true,true" })
    void synFloodIsCappedAndCleared(boolean connectSome, boolean v6) throws Exception {
        try (NatFuzzHarness h = new NatFuzzHarness(1500, false, false)) {
            byte[][] a = NatFuzzInput.addresses(v6, 0);
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

    private static void end(NatFuzzHarness h, boolean boardVanishes) {
        if (boardVanishes)
            h.discardAll();
        else
            h.drainByTime();
        h.assertNothingLeft();
    }

    // ---- seed scenarios ---------------------------------------------------------------

    private static NatFuzzInput.Writer anything(int mtu, boolean offload, boolean boardVanishes) {
        NatFuzzInput.Writer w = new NatFuzzInput.Writer(NatFuzzInput.ALL);
        w.out.between(0, 3, java.util.Arrays.stream(NatFuzzInput.MTUS).boxed().toList().indexOf(mtu)).bool(offload)
                .bool(boardVanishes);
        return w;
    }

    private static NatFuzzInput.Writer conversation(int mtu, boolean offload) {
        NatFuzzInput.Writer w = new NatFuzzInput.Writer(NatFuzzInput.CONVERSATION);
        w.out.between(0, 3, java.util.Arrays.stream(NatFuzzInput.MTUS).boxed().toList().indexOf(mtu)).bool(offload);
        return w;
    }

    /**
     * A board opens a connection that the host accepts; the board acks the SYN-ACK and sends a request.
     * (Replies pick segments to the board newest first; host sockets are picked in the order they opened.)
     */
    private static NatFuzzInput.Writer opened(NatFuzzInput.Writer w, boolean v6, int boardPort) {
        return w.syn(v6, 0, boardPort, 80, 1460, 7, true).connect(0, 0).reply(0, 0, 1).reply(0, 1, 120);
    }

    /**
     * The SACK-over-MTU bug (found by the jqwik NAT property, fixed in bb512be): while board
     * data beyond a hole is held, every segment to the board carries SACK blocks; with a full
     * MSS of data on top it was 28 bytes over the MTU and the board dropped it.
     */
    private static NatFuzzInput.Writer sackBlocksWithFullSegments(NatFuzzInput.Writer w) {
        return opened(w, false, 40000).remoteSends(0, 100_000).reply(0, 7, 100).reply(0, 0, 1).reply(0, 0, 1)
                .advance(200_000_000L).reply(0, 0, 1);
    }

    static Map<String, byte[]> anythingSeeds() {
        Map<String, byte[]> seeds = new LinkedHashMap<>();
        seeds.put("download-then-close", opened(anything(1500, false, false), false, 40000).remoteSends(0, 60_000)
                .reply(0, 0, 1).reply(0, 0, 1).remoteCloses(0).reply(0, 2, 1).advance(1_000_000_000L).toByteArray());
        seeds.put("download-board-vanishes", opened(anything(65520, true, true), true, 40001).remoteSends(0, 150_000)
                .reply(0, 0, 1).toByteArray());
        seeds.put("sack-blocks-with-full-segments", sackBlocksWithFullSegments(anything(1500, false, false)).toByteArray());
        seeds.put("udp-dns-icmp", anything(1500, false, false).udp(false, 1, 40000, 9, 0).udp(false, 1, 40001, 53, 300)
                .udp(true, 1, 40002, 7, 1200).udp(false, 0, 40000, 123, 48).dns(false, 0x1234, 1, false)
                .dns(true, 0x4321, 28, true).dnsAnswer(true).dnsAnswer(false).icmp(false, 0, 8, 77, 56)
                .icmp(true, 0, 128, 78, 56).echoReply(0).icmp(false, 1, 8, 79, 1000).icmp(false, 2, 8, 80, 0)
                .icmp(true, 1, 133, 0, 8).advance(61_000_000_000L).toByteArray());
        seeds.put("refused-unreachable-reset", anything(9000, false, false).syn(false, 0, 40000, 443, 8960, -1, false)
                .connect(0, 1).syn(false, 0, 40001, 443, -1, 15, true).connect(0, 2).syn(true, 0, 40002, 7, 536, 0, false)
                .connect(0, 3).syn(false, 1, 40000, 80, 1460, 7, true).segment(false, 0, 40000, 443, 1, 1, TcpHeader.RST, 0)
                .segment(false, 0, 40001, 80, 5, 9, TcpHeader.ACK | TcpHeader.PSH, 100).toByteArray());
        seeds.put("damaged-and-noise", anything(1280, false, false).damagedUdp(20, new int[] { 2, 10, 0 })
                .damagedUdp(30, new int[] { 3, 0, 1 }, new int[] { 0, 9, 3 }).damagedUdp(0, new int[] { 1, 33, 0xff })
                .noise(new byte[] { 0x45, 0, 0, 20 }).noise(new byte[] { 0x60, 0, 0, 0, 0, 8, 17, 64 })
                .noise(new byte[0]).toByteArray());
        seeds.put("slow-host-socket-and-congestion", opened(anything(9000, true, false), false, 40002).writeRoom(0, 0)
                .reply(0, 1, 4000).reply(0, 1, 4000).congest(true).remoteSends(0, 200_000).congest(false)
                .writeRoom(0, 100_000).reply(0, 0, 1).breakSocket(0).reply(0, 1, 10).toByteArray());
        seeds.put("forwards-in", anything(1500, false, false).forward(22, false).forward(80, true).reply(0, 8, 1)
                .reply(1, 4, 1).forward(40000, false).advance(5_000_000_000L).toByteArray());
        seeds.put("idle-flows-time-out", opened(anything(1500, false, false), false, 40000).advance(600_000_000_000L)
                .advance(600_000_000_000L).reply(0, 5, 1).toByteArray());
        return seeds;
    }

    static Map<String, byte[]> conversationSeeds() {
        Map<String, byte[]> seeds = new LinkedHashMap<>();
        seeds.put("download-and-upload", opened(conversation(1500, false), false, 40000).remoteSends(0, 50_000)
                .reply(0, 0, 1).reply(0, 1, 3000).reply(0, 0, 1).remoteSends(0, 20_000).reply(0, 0, 1).remoteCloses(0)
                .reply(0, 2, 1).toByteArray());
        seeds.put("sack-blocks-with-full-segments", sackBlocksWithFullSegments(conversation(1500, false)).toByteArray());
        seeds.put("out-of-order-and-overlap", opened(conversation(9000, true), false, 40001).reply(0, 7, 500)
                .reply(0, 7, 2500).reply(0, 9, 80).reply(0, 1, 4000).reply(0, 5, 1).toByteArray());
        seeds.put("loss-and-retransmits", opened(conversation(1500, false), true, 40002).remoteSends(0, 30_000)
                .advance(1_000_000_000L).advance(1_000_000_000L).reply(2, 0, 1).reply(0, 6, 1).advance(5_000_000_000L)
                .reply(0, 0, 1).toByteArray());
        // Every host peer sends more than the cap while no host socket takes anything; then the board sends too.
        NatFuzzInput.Writer full = conversation(1500, false);
        for (int i = 0; i < NatFuzzInput.BOARD_PORTS.length; i++) // host sockets are picked in the order they opened
            opened(full, false, NatFuzzInput.BOARD_PORTS[i]).writeRoom(i, 0).remoteSends(i, 200_000);
        for (int k = 0; k < 12; k++)
            full.reply(k % 3, 1, 4000);
        seeds.put("buffer-cap-both-ways", full.writeRoom(1, 100_000).reply(0, 0, 1).toByteArray());
        return seeds;
    }

    static Map<String, byte[]> bufferCapSeeds() {
        Map<String, byte[]> seeds = new LinkedHashMap<>();
        int[][] cases = { { 2, 10_000, 0, 0 }, { 8, 400_000, 3, 1 }, { 4, 100_000, 1, 0 } };
        for (int[] c : cases)
            seeds.put(c[0] + "-flows-" + c[1] + "-bytes-" + c[2] + "-segments" + (c[3] == 1 ? "-offload" : ""),
                    new FuzzInput.Writer().between(2, 8, c[0]).between(10_000, 400_000, c[1]).between(0, 3, c[2])
                            .bool(c[3] == 1).toByteArray());
        return seeds;
    }

    @Test
    void seedInputsAreCurrent() {
        FuzzSeeds.check(NatFuzzTest.class, ANYTHING, anythingSeeds());
        FuzzSeeds.check(NatFuzzTest.class, CONVERSATIONS, conversationSeeds());
        FuzzSeeds.check(NatFuzzTest.class, "bufferCapHoldsWhenEveryFlowIsFull", bufferCapSeeds());
    }

    /**
     * Every path the two open-ended tests are about is reached by at least one
     * of their regression inputs, so `make test` keeps exercising them (what
     * jqwik's coverage statistics checked per run before).
     */
    @Test
    void seedsReachThePathsTheTestsAreAbout() throws Exception {
        assertReached(ANYTHING, NatFuzzTest::runAnythingUnchecked);
        assertReached(CONVERSATIONS, NatFuzzTest::runConversationUnchecked);
    }

    private static void assertReached(String method, Function<byte[], Reached> run) {
        Map<String, Boolean> union = new TreeMap<>();
        for (byte[] input : FuzzSeeds.read(NatFuzzTest.class, method).values())
            run.apply(input).paths().forEach((path, hit) -> union.merge(path, hit, Boolean::logicalOr));
        union.forEach((path, hit) -> assertTrue(hit, method + ": no regression input reaches '" + path
                + "': add a seed scenario that does (NatFuzzTest.*Seeds)"));
    }

    private static Reached runAnythingUnchecked(byte[] data) {
        try {
            return runAnything(data);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static Reached runConversationUnchecked(byte[] data) {
        try {
            return runConversation(data);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
