// Packet-in/packet-out tests of the TCP NAT, in the style of smoltcp: the
// board sends a segment, the test asserts the exact segment that comes back,
// for each state and transition.
package dev.qbkit.qbnet.nat;

import static dev.qbkit.qbnet.nat.Segment.A;
import static dev.qbkit.qbnet.nat.Segment.F;
import static dev.qbkit.qbnet.nat.Segment.P;
import static dev.qbkit.qbnet.nat.Segment.R;
import static dev.qbkit.qbnet.nat.Segment.S;
import static dev.qbkit.qbnet.nat.ScriptedNat.BOARD_PORT;
import static dev.qbkit.qbnet.nat.ScriptedNat.ISS;
import static dev.qbkit.qbnet.nat.ScriptedNat.REMOTE_PORT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class TcpFlowTest {
    static final int IRS = 5000;
    /** Board's window field after the handshake; with its scale 7 this is 64256 bytes. */
    static final int BOARD_WINDOW = 502;
    /** Our window field: 1 MiB receive window at scale 5. */
    static final int OUR_WINDOW = 32768;
    /** After a handshake with no measurable delay, the RTO sits at its 200 ms floor. */
    static final long RTO = TcpFlow.MIN_RTO;

    final ScriptedNat nat = new ScriptedNat();

    static Segment fromBoard(int seq, int ack, int flags, int window) {
        return Segment.of(BOARD_PORT, REMOTE_PORT, seq, ack, flags, window);
    }

    static Segment toBoard(int seq, int ack, int flags, int window) {
        return Segment.of(REMOTE_PORT, BOARD_PORT, seq, ack, flags, window);
    }

    Segment syn() {
        return fromBoard(IRS, 0, S, 64240).withOptions(1460, 7, true);
    }

    /** SYN, host connect, SYN-ACK, ACK: the flow is ESTABLISHED. */
    void establish() {
        nat.board(syn());
        nat.socket().listener.onConnected();
        nat.endRound();
        assertEquals(toBoard(ISS, IRS + 1, S | A, 65535).withOptions(1460, 5, true), nat.next());
        nat.board(fromBoard(IRS + 1, ISS + 1, A, BOARD_WINDOW));
        assertEquals(TcpFlow.State.ESTABLISHED, nat.flow().state());
        assertTrue(nat.nothingSent());
    }

    static byte[] bytes(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++)
            b[i] = (byte) (i * 7 + seed);
        return b;
    }

    // ---- failures are contained (issue 11) -----------------------------------

    @Test
    void aFlowThatThrowsOnABoardSegmentIsResetAndTheOthersGoOn() {
        establish();
        FakeSocket first = nat.socket();
        int other = BOARD_PORT + 1;
        nat.board(Segment.of(other, REMOTE_PORT, IRS, 0, S, 64240).withOptions(1460, 7, true));
        nat.socket().listener.onConnected();
        nat.endRound();
        nat.next(); // its SYN-ACK
        nat.board(Segment.of(other, REMOTE_PORT, IRS + 1, ISS + 1, A, BOARD_WINDOW));

        first.crashWrites = new IllegalStateException("a bug");
        nat.board(fromBoard(IRS + 1, ISS + 1, A | P, BOARD_WINDOW).withPayload("boom"));
        assertEquals(toBoard(ISS + 1, IRS + 1, R | A, 0), nat.next(), "the failed flow is reset toward the board");
        assertNull(nat.flow());
        assertTrue(first.aborted, "and toward the host");
        assertEquals(1, nat.stats.get(Counter.DROP_TCP_FLOW_FAILED));
        assertEquals("a bug", nat.flowFailures.getFirst().getMessage());

        nat.board(Segment.of(other, REMOTE_PORT, IRS + 1, ISS + 1, A | P, BOARD_WINDOW).withPayload("fine"));
        assertEquals("fine", new String(nat.socket().takeWritten(), StandardCharsets.US_ASCII), "the other flow goes on");
    }

    @Test
    void aFlowWhoseTimerThrowsIsReset() {
        establish();
        nat.socket().remoteSends(bytes(100, 3));
        nat.endRound();
        assertEquals(100, nat.next().payload().length);
        nat.failNextBegin = new IllegalStateException("a bug");
        nat.advance(RTO); // the retransmission throws
        assertEquals(toBoard(ISS + 1, IRS + 1, R | A, 0), nat.next());
        assertNull(nat.flow());
        assertEquals(1, nat.stats.get(Counter.DROP_TCP_FLOW_FAILED));
        assertTrue(nat.nothingSent(), "nothing after the reset");
    }

    // ---- opening ------------------------------------------------------------

    @Test
    void synIsAnsweredOnlyAfterTheHostConnectSucceeds() {
        nat.board(syn());
        assertTrue(nat.nothingSent(), "no SYN-ACK before the host connection exists");
        assertEquals(new InetSocketAddress("192.0.2.10", 80), nat.socket().connectedTo);
        assertEquals(TcpFlow.State.CONNECTING, nat.flow().state());
        nat.socket().listener.onConnected();
        assertEquals(toBoard(ISS, IRS + 1, S | A, 65535).withOptions(1460, 5, true), nat.next());
        assertEquals(TcpFlow.State.SYN_RECEIVED, nat.flow().state());
    }

    @Test
    void synAckOmitsWindowScaleWhenTheBoardDidNotOfferIt() {
        nat.board(fromBoard(IRS, 0, S, 29200).withOptions(1460, -1, false));
        nat.socket().listener.onConnected();
        assertEquals(toBoard(ISS, IRS + 1, S | A, 65535).withOptions(1460, -1, false), nat.next());
        nat.board(fromBoard(IRS + 1, ISS + 1, A, 29200));
        nat.board(fromBoard(IRS + 1, ISS + 1, A | P, 29200).withPayload("hi"));
        nat.advance(TcpFlow.DELAYED_ACK); // no reply came to carry the ack
        assertEquals(toBoard(ISS + 1, IRS + 3, A, 65535), nat.next(), "unscaled window, capped at 65535");
    }

    @Test
    void mssFollowsTheBoardsOfferAndOurMtu() {
        nat.board(fromBoard(IRS, 0, S, 64240).withOptions(536, 7, false));
        nat.socket().listener.onConnected();
        assertEquals(1460, nat.next().mss(), "we announce MTU - 40");
        nat.board(fromBoard(IRS + 1, ISS + 1, A, BOARD_WINDOW));
        nat.socket().remoteSends(bytes(1000, 1));
        nat.endRound();
        assertEquals(536, nat.next().payload().length, "we send at most the board's MSS");
        assertEquals(464, nat.next().payload().length);
    }

    @Test
    void refusedConnectAnswersResetAckAtOnce() {
        nat.board(syn());
        nat.socket().listener.onConnectFailed(new ConnectException("Connection refused"));
        assertEquals(toBoard(0, IRS + 1, R | A, 0), nat.next());
        assertNull(nat.flow());
        assertEquals(1, nat.stats.get(Counter.TCP_CONNECT_REFUSED));
    }

    @Test
    void connectTimeoutAnswersHostUnreachable() {
        nat.board(syn());
        nat.advance(nat.config.tcpConnectTimeout().toNanos() + 1);
        IcmpTest.assertUnreachable(nat.sent.poll(), ScriptedNat.REMOTE, 1, IRS);
        assertNull(nat.flow());
        assertTrue(nat.socket().aborted);
    }

    @Test
    void unreachableHostAnswersIcmpNotReset() {
        nat.board(syn());
        nat.socket().listener.onConnectFailed(new java.net.NoRouteToHostException("No route to host"));
        IcmpTest.assertUnreachable(nat.sent.poll(), ScriptedNat.REMOTE, 1, IRS);
        assertNull(nat.flow());
        assertEquals(1, nat.stats.get(Counter.ICMP_UNREACHABLE_SENT));
    }

    @Test
    void unreachableNetworkAnswersNetUnreachable() {
        nat.board(syn());
        nat.socket().listener.onConnectFailed(new ConnectException("Network is unreachable"));
        IcmpTest.assertUnreachable(nat.sent.poll(), ScriptedNat.REMOTE, 0, IRS);
    }

    @Test
    void duplicateSynWhileConnectingIsIgnored() {
        nat.board(syn());
        nat.board(syn());
        assertTrue(nat.nothingSent());
        assertEquals(1, nat.sockets.size(), "one host connection for a repeated SYN");
    }

    @Test
    void duplicateSynAfterSynAckResendsSynAck() {
        nat.board(syn());
        nat.socket().listener.onConnected();
        Segment synAck = nat.next();
        nat.board(syn());
        assertEquals(synAck, nat.next());
    }

    @Test
    void lostSynAckIsRetransmittedAfterRto() {
        nat.board(syn());
        nat.socket().listener.onConnected();
        Segment synAck = nat.next();
        nat.advance(TcpFlow.INITIAL_RTO);
        assertEquals(synAck, nat.next());
        nat.advance(2 * TcpFlow.INITIAL_RTO);
        assertEquals(synAck, nat.next(), "backed off to twice the RTO");
    }

    @Test
    void badAckInSynReceivedIsReset() {
        nat.board(syn());
        nat.socket().listener.onConnected();
        nat.next();
        nat.board(fromBoard(IRS + 1, ISS + 77, A, BOARD_WINDOW));
        assertEquals(toBoard(ISS + 77, 0, R, 0), nat.next());
    }

    @Test
    void resetWhileConnectingAbandonsTheConnect() {
        nat.board(syn());
        nat.board(fromBoard(IRS + 1, 0, R, 0));
        assertNull(nat.flow());
        assertTrue(nat.socket().aborted);
        assertTrue(nat.nothingSent());
    }

    // ---- board to host --------------------------------------------------------

    @Test
    void boardDataIsAckedAfterItReachedTheHostSocket() {
        establish();
        nat.board(fromBoard(IRS + 1, ISS + 1, A | P, BOARD_WINDOW).withPayload("GET / HTTP/1.0\r\n\r\n"));
        assertEquals("GET / HTTP/1.0\r\n\r\n", new String(nat.socket().takeWritten(), StandardCharsets.US_ASCII));
        nat.advance(TcpFlow.DELAYED_ACK); // no reply came to carry the ack
        assertEquals(toBoard(ISS + 1, IRS + 19, A, OUR_WINDOW), nat.next());
        assertTrue(nat.nothingSent(), "one ack");
    }

    @Test
    void aSmallRequestsAckRidesOnTheReply() {
        establish();
        nat.board(fromBoard(IRS + 1, ISS + 1, A | P, BOARD_WINDOW).withPayload("ping"));
        assertTrue(nat.nothingSent(), "no pure ack at once for a small request");
        nat.socket().remoteSends("pong".getBytes(StandardCharsets.US_ASCII));
        nat.endRound();
        assertEquals(toBoard(ISS + 1, IRS + 5, A | P, OUR_WINDOW).withPayload("pong"), nat.next(), "the reply carries it");
        nat.advance(TcpFlow.DELAYED_ACK);
        assertTrue(nat.nothingSent(), "and no ack follows");
    }

    @Test
    void twoFullSegmentsAreAckedAtOnce() {
        establish();
        nat.boardInOneRound(fromBoard(IRS + 1, ISS + 1, A, BOARD_WINDOW).withPayload(bytes(1460, 1)),
                fromBoard(IRS + 1461, ISS + 1, A, BOARD_WINDOW).withPayload(bytes(1460, 2)));
        assertEquals(toBoard(ISS + 1, IRS + 2921, A, OUR_WINDOW), nat.next());
    }

    @Test
    void dataTheHostSocketCannotTakeYetIsAckedAtOnceAndNarrowsTheWindow() {
        establish();
        nat.socket().writeRoom = 4;
        nat.board(fromBoard(IRS + 1, ISS + 1, A | P, BOARD_WINDOW).withPayload("abcdefghij"));
        assertEquals(toBoard(ISS + 1, IRS + 11, A, (1048576 - 6) >> 5), nat.next(),
                "all 10 bytes acked; the 6 held come off the window");
        assertTrue(nat.socket().wantWrite);
        nat.socket().writeRoom = Integer.MAX_VALUE;
        nat.socket().listener.onWritable();
        nat.endRound();
        assertEquals("abcdefghij", new String(nat.socket().takeWritten(), StandardCharsets.US_ASCII));
        assertTrue(nat.nothingSent(), "a window still over half open is not worth a packet");
        assertFalse(nat.socket().wantWrite);
        nat.board(fromBoard(IRS + 11, ISS + 1, A | P, BOARD_WINDOW).withPayload("k"));
        nat.advance(TcpFlow.DELAYED_ACK);
        assertEquals(toBoard(ISS + 1, IRS + 12, A, OUR_WINDOW), nat.next(), "the next ack has it all back");
    }

    /** A flow whose receive window is 4096 bytes (unscaled) and whose host socket takes nothing yet. */
    ScriptedNat smallWindow() {
        ScriptedNat n = new ScriptedNat(NatConfig.builder().mtu(1500).tcpBuffers(4096, 1 << 20).build());
        n.board(syn());
        n.socket().listener.onConnected();
        assertEquals(toBoard(ISS, IRS + 1, S | A, 4096).withOptions(1460, 0, true), n.next());
        n.board(fromBoard(IRS + 1, ISS + 1, A, BOARD_WINDOW));
        n.socket().writeRoom = 0;
        return n;
    }

    @Test
    void aHostThatStopsReadingHoldsTheBoardAtAZeroWindowUntilItReadsAgain() {
        ScriptedNat n = smallWindow();
        byte[] data = bytes(4096, 8);
        n.board(fromBoard(IRS + 1, ISS + 1, A, BOARD_WINDOW).withPayload(Arrays.copyOfRange(data, 0, 1460)));
        assertEquals(toBoard(ISS + 1, IRS + 1461, A, 4096 - 1460), n.next(), "acked at once: no board retransmission");
        n.boardInOneRound(fromBoard(IRS + 1461, ISS + 1, A, BOARD_WINDOW).withPayload(Arrays.copyOfRange(data, 1460, 2920)),
                fromBoard(IRS + 2921, ISS + 1, A, BOARD_WINDOW).withPayload(Arrays.copyOfRange(data, 2920, 4096)));
        assertEquals(toBoard(ISS + 1, IRS + 4097, A, 0), n.next(), "everything acked, the window shut");
        assertTrue(n.nothingSent());

        n.advance(60_000_000_000L); // far longer than any board RTO: nothing of it is unacked
        n.board(fromBoard(IRS + 4096, ISS + 1, A, BOARD_WINDOW)); // the board's zero-window probe
        assertEquals(toBoard(ISS + 1, IRS + 4097, A, 0), n.next(), "answered: still shut");
        n.board(fromBoard(IRS + 4097, ISS + 1, A, BOARD_WINDOW).withPayload("x")); // a probe with a byte
        assertEquals(toBoard(ISS + 1, IRS + 4097, A, 0), n.next(), "not taken: no room");
        assertEquals(TcpFlow.State.ESTABLISHED, n.flow().state());

        n.socket().writeRoom = 1000;
        n.socket().listener.onWritable();
        n.endRound();
        assertTrue(n.nothingSent(), "1000 bytes of room is less than a segment: no silly window");
        n.socket().writeRoom = Integer.MAX_VALUE;
        n.socket().listener.onWritable();
        n.endRound();
        assertEquals(toBoard(ISS + 1, IRS + 4097, A, 4096), n.next(), "the window reopens without a probe");
        assertArrayEquals(data, n.socket().takeWritten());
        assertEquals(0, n.buffers.inUseBytes());
    }

    @Test
    void theRightEdgeNeverMovesLeftWhenTheBoardsBufferCapFills() {
        ScriptedNat n = new ScriptedNat(NatConfig.builder().mtu(1500).limits(16, 16, 4 * BufferPool.CHUNK_SIZE).build());
        n.board(syn());
        n.socket().listener.onConnected();
        n.next();
        n.board(fromBoard(IRS + 1, ISS + 1, A, 0)); // the board takes nothing: host data stays in the send buffer
        n.socket().writeRoom = 0;
        n.board(fromBoard(IRS + 1, ISS + 1, A, 0).withPayload(bytes(1000, 9)));
        Segment first = n.next();
        assertEquals(IRS + 1001, first.ack());
        assertEquals(3 * BufferPool.CHUNK_SIZE >> 5, first.window(), "a 64 KiB chunk is held: three are left");
        long edge = Integer.toUnsignedLong(first.ack()) + ((long) first.window() << 5);

        n.socket().remoteSends(bytes(3 * BufferPool.CHUNK_SIZE, 10)); // the host fills the rest of the cap
        n.endRound();
        assertEquals(4L * BufferPool.CHUNK_SIZE, n.buffers.inUseBytes(), "the board's buffer cap is reached");
        n.board(fromBoard(IRS + 1001, ISS + 1, A, 0).withPayload(bytes(10, 11)));
        Segment second = n.next();
        assertEquals(IRS + 1011, second.ack());
        long secondEdge = Integer.toUnsignedLong(second.ack()) + ((long) second.window() << 5);
        assertTrue(secondEdge > edge - 32, "the edge stays (less the scale's rounding, RFC 7323 F): " + edge
                + " then " + secondEdge);
    }

    @Test
    void severalSegmentsInOneRoundGetOneAck() {
        establish();
        nat.boardInOneRound(fromBoard(IRS + 1, ISS + 1, A, BOARD_WINDOW).withPayload("aaaa"),
                fromBoard(IRS + 5, ISS + 1, A, BOARD_WINDOW).withPayload("bbbb"),
                fromBoard(IRS + 9, ISS + 1, A | P, BOARD_WINDOW).withPayload("cccc"));
        nat.advance(TcpFlow.DELAYED_ACK); // no reply came to carry the ack
        assertEquals(toBoard(ISS + 1, IRS + 13, A, OUR_WINDOW), nat.next());
        assertTrue(nat.nothingSent());
    }

    @Test
    void outOfOrderDataIsHeldAndSackedUntilTheHoleIsFilled() {
        establish();
        nat.board(fromBoard(IRS + 6, ISS + 1, A, BOARD_WINDOW).withPayload("world"));
        assertEquals(toBoard(ISS + 1, IRS + 1, A, OUR_WINDOW).withSack(IRS + 6, IRS + 11), nat.next(),
                "a duplicate ack that SACKs what arrived");
        assertEquals(0, nat.socket().takeWritten().length, "nothing reaches the host past a hole");
        nat.board(fromBoard(IRS + 16, ISS + 1, A, BOARD_WINDOW).withPayload("!"));
        assertEquals(toBoard(ISS + 1, IRS + 1, A, OUR_WINDOW).withSack(IRS + 16, IRS + 17, IRS + 6, IRS + 11), nat.next(),
                "the newest block first");
        nat.board(fromBoard(IRS + 1, ISS + 1, A, BOARD_WINDOW).withPayload("hello"));
        assertEquals("helloworld", new String(nat.socket().takeWritten(), StandardCharsets.US_ASCII));
        assertEquals(toBoard(ISS + 1, IRS + 11, A, OUR_WINDOW).withSack(IRS + 16, IRS + 17), nat.next());
        nat.board(fromBoard(IRS + 11, ISS + 1, A, BOARD_WINDOW).withPayload("12345"));
        assertEquals("12345!", new String(nat.socket().takeWritten(), StandardCharsets.US_ASCII));
        nat.advance(TcpFlow.DELAYED_ACK); // no reply came to carry the ack
        assertEquals(toBoard(ISS + 1, IRS + 17, A, OUR_WINDOW), nat.next(), "no SACK once nothing is held");
        assertEquals(2, nat.stats.get(Counter.TCP_OUT_OF_ORDER_QUEUED));
        assertEquals(0, nat.buffers.inUseBytes(), "reassembly memory returned");
    }

    @Test
    void aHostSocketFailingWhileHeldDataDrainsReturnsEveryReservation() {
        establish();
        nat.board(fromBoard(IRS + 6, ISS + 1, A, BOARD_WINDOW).withPayload("world")); // held beyond a hole
        nat.next();
        assertEquals(5, nat.buffers.inUseBytes(), "the held bytes are reserved");
        nat.socket().failLaterWrites = new IOException("Connection reset by peer");
        nat.socket().writesBeforeFailure = 1; // "hello" reaches the host; the drained "world" fails
        nat.board(fromBoard(IRS + 1, ISS + 1, A, BOARD_WINDOW).withPayload("hello"));
        assertEquals(toBoard(ISS + 1, IRS + 6, R | A, 0), nat.next());
        assertNull(nat.flow());
        assertEquals(0, nat.buffers.inUseBytes(), "no reservation outlives the flow");
    }

    @Test
    void outOfOrderFinIsHonouredWhenTheHoleIsFilled() {
        establish();
        nat.board(fromBoard(IRS + 4, ISS + 1, A | F, BOARD_WINDOW).withPayload("def"));
        assertEquals(toBoard(ISS + 1, IRS + 1, A, OUR_WINDOW).withSack(IRS + 4, IRS + 7), nat.next());
        assertFalse(nat.socket().outputShut);
        nat.board(fromBoard(IRS + 1, ISS + 1, A, BOARD_WINDOW).withPayload("abc"));
        assertEquals("abcdef", new String(nat.socket().takeWritten(), StandardCharsets.US_ASCII));
        assertTrue(nat.socket().outputShut, "the FIN held with the data is delivered too");
        assertEquals(toBoard(ISS + 1, IRS + 8, A, OUR_WINDOW), nat.next());
        assertEquals(TcpFlow.State.CLOSE_WAIT, nat.flow().state());
    }

    @Test
    void withoutSackPermittedNoSackBlocksAreSent() {
        nat.board(fromBoard(IRS, 0, S, 64240).withOptions(1460, 7, false));
        nat.socket().listener.onConnected();
        assertFalse(nat.next().sackPermitted());
        nat.board(fromBoard(IRS + 1, ISS + 1, A, BOARD_WINDOW));
        nat.board(fromBoard(IRS + 6, ISS + 1, A, BOARD_WINDOW).withPayload("world"));
        assertEquals(toBoard(ISS + 1, IRS + 1, A, OUR_WINDOW), nat.next());
    }

    @Test
    void duplicateSegmentIsAckedNotDeliveredTwice() {
        establish();
        Segment data = fromBoard(IRS + 1, ISS + 1, A, BOARD_WINDOW).withPayload("once");
        nat.board(data);
        nat.advance(TcpFlow.DELAYED_ACK); // no reply came to carry the ack
        nat.next();
        nat.board(data);
        assertEquals(toBoard(ISS + 1, IRS + 5, A, OUR_WINDOW), nat.next());
        assertEquals("once", new String(nat.socket().takeWritten(), StandardCharsets.US_ASCII));
    }

    @Test
    void partlyNewRetransmissionDeliversOnlyTheNewPart() {
        establish();
        nat.board(fromBoard(IRS + 1, ISS + 1, A, BOARD_WINDOW).withPayload("abcd"));
        nat.advance(TcpFlow.DELAYED_ACK); // no reply came to carry the ack
        nat.next();
        nat.board(fromBoard(IRS + 3, ISS + 1, A, BOARD_WINDOW).withPayload("cdef"));
        assertEquals("abcdef", new String(nat.socket().takeWritten(), StandardCharsets.US_ASCII));
        nat.advance(TcpFlow.DELAYED_ACK);
        assertEquals(toBoard(ISS + 1, IRS + 7, A, OUR_WINDOW), nat.next());
    }

    @Test
    void keepaliveProbeIsAnswered() {
        establish();
        nat.board(fromBoard(IRS, ISS + 1, A, BOARD_WINDOW));
        assertEquals(toBoard(ISS + 1, IRS + 1, A, OUR_WINDOW), nat.next());
    }

    @Test
    void theBoardsKeepaliveIsMirroredOntoTheHostSocket() {
        establish();
        nat.advance(45_000_000_000L);
        nat.board(fromBoard(IRS, ISS + 1, A, BOARD_WINDOW)); // 45 s after the board last heard from us
        assertEquals(toBoard(ISS + 1, IRS + 1, A, OUR_WINDOW), nat.next(), "answered here");
        assertArrayEquals(new int[] { 45, 45, 9 }, nat.socket().keepAlive,
                "the host socket probes its peer after the board's idle time");
        nat.advance(45_000_000_000L);
        nat.board(fromBoard(IRS, ISS + 1, A, BOARD_WINDOW).withPayload(new byte[] { 0 })); // BSD style: one old byte
        assertEquals(toBoard(ISS + 1, IRS + 1, A, OUR_WINDOW), nat.next());
        assertEquals(1, nat.socket().keepAliveCalls, "set once for the same interval");
        assertEquals(1, nat.stats.get(Counter.TCP_KEEPALIVES_MIRRORED));
    }

    @Test
    void aLongKeepaliveIsMirroredWithTheUsualProbeInterval() {
        establish();
        nat.advance(7_200_000_000_000L); // Linux's default: 2 h
        nat.board(fromBoard(IRS, ISS + 1, A, BOARD_WINDOW));
        nat.next();
        assertArrayEquals(new int[] { 7200, 75, 9 }, nat.socket().keepAlive);
    }

    @Test
    void aZeroWindowProbeOrAQuickDuplicateIsNoKeepalive() {
        ScriptedNat n = smallWindow();
        n.board(fromBoard(IRS + 1, ISS + 1, A, BOARD_WINDOW).withPayload(bytes(4096, 3)));
        assertEquals(0, n.next().window());
        n.advance(30_000_000_000L);
        n.board(fromBoard(IRS + 4096, ISS + 1, A, BOARD_WINDOW)); // the board probes our zero window
        n.next();
        assertNull(n.socket().keepAlive, "a zero-window probe");
        establish();
        nat.board(fromBoard(IRS, ISS + 1, A, BOARD_WINDOW)); // at once: a duplicate, not idle
        nat.next();
        assertNull(nat.socket().keepAlive);
    }

    @Test
    void aHostPeerFoundDeadResetsTheBoardsConnection() {
        establish();
        nat.socket().failReads = new IOException("Connection timed out");
        nat.socket().listener.onReadable(); // the host kernel's keepalive gave up on the peer
        assertEquals(toBoard(ISS + 1, IRS + 1, R | A, 0), nat.next());
        assertNull(nat.flow());
        assertTrue(nat.socket().aborted);
    }

    @Test
    void segmentWithoutAckIsDropped() {
        establish();
        nat.board(fromBoard(IRS + 1, 0, P, BOARD_WINDOW).withPayload("x"));
        assertTrue(nat.nothingSent());
        assertEquals(0, nat.socket().takeWritten().length);
    }

    @Test
    void ackOfUnsentDataIsAnsweredWithAnAck() {
        establish();
        nat.board(fromBoard(IRS + 1, ISS + 500, A, BOARD_WINDOW));
        assertEquals(toBoard(ISS + 1, IRS + 1, A, OUR_WINDOW), nat.next());
    }

    @Test
    void synInEstablishedGetsAChallengeAck() {
        establish();
        nat.board(fromBoard(IRS + 1000, 0, S, 64240).withOptions(1460, 7, false));
        assertEquals(toBoard(ISS + 1, IRS + 1, A, OUR_WINDOW), nat.next());
        assertEquals(TcpFlow.State.ESTABLISHED, nat.flow().state());
    }

    // ---- host to board ----------------------------------------------------------

    @Test
    void hostDataGoesToTheBoardInMssSegments() {
        establish();
        byte[] data = bytes(3000, 3);
        nat.socket().remoteSends(data);
        nat.endRound();
        assertEquals(toBoard(ISS + 1, IRS + 1, A | P, OUR_WINDOW).withPayload(Arrays.copyOfRange(data, 0, 1460)), nat.next());
        assertEquals(toBoard(ISS + 1461, IRS + 1, A | P, OUR_WINDOW).withPayload(Arrays.copyOfRange(data, 1460, 2920)), nat.next());
        assertEquals(toBoard(ISS + 2921, IRS + 1, A | P, OUR_WINDOW).withPayload(Arrays.copyOfRange(data, 2920, 3000)), nat.next());
    }

    @Test
    void withOffloadHostDataGoesAsOneSuperSegmentWithAPartialChecksum() {
        nat.offload = true;
        establish();
        byte[] data = bytes(10_000, 21);
        nat.socket().remoteSends(data);
        nat.endRound();
        byte[] packet = nat.sent.poll();
        assertEquals("gso=1460 start=20 offset=16", nat.offloadHeaders.poll(), "the board cuts it at its MSS");
        assertTrue(nat.nothingSent(), "one frame for 10 000 bytes");
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(packet);
        assertEquals(20 + 20 + 10_000, Short.toUnsignedInt(b.getShort(2)), "IP total length");
        assertEquals(ISS + 1, b.getInt(24), "sequence");
        assertArrayEquals(data, Arrays.copyOfRange(packet, 40, packet.length));
        long pseudo = dev.qbkit.qbnet.packet.Checksum.pseudoHeader(b, 0, false, 6, 20 + 10_000);
        assertEquals(~dev.qbkit.qbnet.packet.Checksum.finish(pseudo) & 0xFFFF, Short.toUnsignedInt(b.getShort(36)),
                "the checksum field holds the pseudo-header sum only");
    }

    @Test
    void withOffloadSackOptionsComeOutOfEachCutSegment() {
        nat.offload = true;
        establish();
        nat.board(fromBoard(IRS + 6, ISS + 1, A, BOARD_WINDOW).withPayload("later")); // held: acks carry SACK
        nat.next();
        nat.socket().remoteSends(bytes(10_000, 22));
        nat.endRound();
        nat.sent.poll();
        assertEquals("gso=1448 start=20 offset=16", nat.offloadHeaders.poll(),
                "12 bytes of SACK option in each segment: 1460 - 12 of payload keeps it within the MTU");
    }

    @Test
    void withOffloadSmallSegmentsAreNotCut() {
        nat.offload = true;
        establish();
        nat.socket().remoteSends("tiny".getBytes(StandardCharsets.US_ASCII));
        nat.endRound();
        nat.sent.poll();
        assertEquals("gso=0 start=20 offset=16", nat.offloadHeaders.poll());
    }

    @Test
    void sendingStopsAtTheBoardsWindow() {
        nat.board(fromBoard(IRS, 0, S, 64240).withOptions(1460, 0, false));
        nat.socket().listener.onConnected();
        nat.next();
        nat.board(fromBoard(IRS + 1, ISS + 1, A, 1000)); // 1000-byte window, scale 0
        nat.socket().remoteSends(bytes(2500, 5));
        nat.endRound();
        assertEquals(1000, nat.next().payload().length);
        assertTrue(nat.nothingSent(), "window full");
        nat.board(fromBoard(IRS + 1, ISS + 1001, A, 1000));
        assertEquals(toBoard(ISS + 1001, IRS + 1, A | P, OUR_WINDOW).withPayload(Arrays.copyOfRange(bytes(2500, 5), 1000, 2000)),
                nat.next());
    }

    @Test
    void zeroWindowIsProbedAndAWindowUpdateResumes() {
        establish();
        nat.board(fromBoard(IRS + 1, ISS + 1, A, 0));
        nat.socket().remoteSends("hello".getBytes(StandardCharsets.US_ASCII));
        nat.endRound();
        assertTrue(nat.nothingSent(), "nothing may be sent into a zero window");
        nat.advance(RTO);
        assertEquals(toBoard(ISS, IRS + 1, A, OUR_WINDOW), nat.next(), "zero-window probe: an old sequence number");
        nat.board(fromBoard(IRS + 1, ISS + 1, A, BOARD_WINDOW));
        assertEquals(toBoard(ISS + 1, IRS + 1, A | P, OUR_WINDOW).withPayload("hello"), nat.next());
    }

    @Test
    void aLongZeroWindowNeitherCountsAgainstTheDataNorLeavesItsDeadline() {
        establish();
        nat.board(fromBoard(IRS + 1, ISS + 1, A, 0));
        nat.socket().remoteSends("hello".getBytes(StandardCharsets.US_ASCII));
        nat.endRound();
        Segment probe = toBoard(ISS, IRS + 1, A, OUR_WINDOW);
        int probes = Sender.MAX_RETRANSMITS + 3; // the board answers more probes than data may be retransmitted
        for (int i = 0; i < probes; i++) {
            nat.advance(Sender.MAX_PERSIST);
            assertEquals(probe, nat.next(), "probe " + i);
            assertTrue(nat.nothingSent(), "one probe per interval");
            nat.board(fromBoard(IRS + 1, ISS + 1, A, 0)); // still shut
        }
        nat.board(fromBoard(IRS + 1, ISS + 1, A, BOARD_WINDOW)); // the window opens
        Segment hello = toBoard(ISS + 1, IRS + 1, A | P, OUR_WINDOW).withPayload("hello");
        assertEquals(hello, nat.next());
        nat.advance(RTO); // the segment was lost
        assertEquals(hello, nat.next(), "retransmitted after one RTO, not on the last probe's deadline");
        nat.advance(Sender.MAX_PERSIST);
        assertEquals(TcpFlow.State.ESTABLISHED, nat.flow() == null ? null : nat.flow().state(),
                "the probes did not use up the data's retransmissions");
        assertEquals(0, nat.stats.get(Counter.TCP_RESETS_TO_BOARD));
    }

    @Test
    void aWindowShutWithDataInFlightIsProbedForAsLongAsTheBoardAnswers() {
        establish();
        byte[] data = bytes(3000, 4);
        nat.socket().remoteSends(data);
        nat.endRound();
        for (int i = 0; i < 3; i++)
            nat.next();
        nat.board(fromBoard(IRS + 1, ISS + 1461, A, 0)); // acks the first segment and shuts its window
        Segment probe = toBoard(ISS + 1460, IRS + 1, A, OUR_WINDOW);
        for (int i = 0; i < 3 * Sender.MAX_RETRANSMITS; i++) {
            nat.advance(Sender.MAX_PERSIST);
            assertEquals(probe, nat.next(), "probe " + i + ": nothing is pushed into the shut window");
            assertTrue(nat.nothingSent());
            nat.board(fromBoard(IRS + 1, ISS + 1461, A, 0));
        }
        assertEquals(TcpFlow.State.ESTABLISHED, nat.flow() == null ? null : nat.flow().state(), "six minutes later");
        nat.board(fromBoard(IRS + 1, ISS + 1461, A, BOARD_WINDOW));
        assertEquals(toBoard(ISS + 1461, IRS + 1, A | P, OUR_WINDOW).withPayload(Arrays.copyOfRange(data, 1460, 2920)),
                nat.next(), "the window opens: the rest goes again");
        assertEquals(toBoard(ISS + 2921, IRS + 1, A | P, OUR_WINDOW).withPayload(Arrays.copyOfRange(data, 2920, 3000)),
                nat.next());
    }

    @Test
    void aBoardThatStopsAnsweringZeroWindowProbesIsReset() {
        establish();
        nat.board(fromBoard(IRS + 1, ISS + 1, A, 0));
        nat.socket().remoteSends("hello".getBytes(StandardCharsets.US_ASCII));
        nat.endRound();
        for (int i = 0; i < Sender.MAX_PROBES; i++) {
            nat.advance(Sender.MAX_PERSIST);
            assertEquals(toBoard(ISS, IRS + 1, A, OUR_WINDOW), nat.next(), "probe " + i);
        }
        nat.advance(Sender.MAX_PERSIST);
        assertEquals(toBoard(ISS + 1, IRS + 1, R | A, 0), nat.next(), "no answer to " + Sender.MAX_PROBES + " probes");
        assertNull(nat.flow());
        assertEquals(Sender.MAX_PROBES, nat.stats.get(Counter.TCP_WINDOW_PROBES));
    }

    @Test
    void unacknowledgedDataIsRetransmittedWithBackoff() {
        establish();
        nat.socket().remoteSends("payload".getBytes(StandardCharsets.US_ASCII));
        nat.endRound();
        Segment first = nat.next();
        nat.advance(RTO - 1);
        assertTrue(nat.nothingSent(), "not before the RTO");
        nat.advance(1);
        assertEquals(first, nat.next());
        nat.advance(2 * RTO);
        assertEquals(first, nat.next());
        nat.board(fromBoard(IRS + 1, ISS + 8, A, BOARD_WINDOW));
        nat.advance(10 * RTO);
        assertTrue(nat.nothingSent(), "acked data is not resent");
        assertEquals(2, nat.stats.get(Counter.TCP_TIMEOUTS));
    }

    @Test
    void threeDuplicateAcksTriggerFastRetransmit() {
        establish();
        byte[] data = bytes(5 * 1460, 9);
        nat.socket().remoteSends(data);
        nat.endRound();
        for (int i = 0; i < 5; i++)
            nat.next();
        Segment dup = fromBoard(IRS + 1, ISS + 1461, A, BOARD_WINDOW);
        nat.board(dup); // acks the first segment: new data
        nat.board(dup);
        nat.board(dup);
        assertTrue(nat.nothingSent());
        nat.board(dup);
        assertEquals(toBoard(ISS + 1461, IRS + 1, A | P, OUR_WINDOW).withPayload(Arrays.copyOfRange(data, 1460, 2920)),
                nat.next());
        assertEquals(1, nat.stats.get(Counter.TCP_FAST_RETRANSMITS));
        nat.board(fromBoard(IRS + 1, ISS + 2921, A, BOARD_WINDOW)); // partial ack: next hole goes at once
        assertEquals(toBoard(ISS + 2921, IRS + 1, A | P, OUR_WINDOW).withPayload(Arrays.copyOfRange(data, 2920, 4380)),
                nat.next());
    }

    @Test
    void hostReadingPausesWhenTheSendBufferIsFull() {
        NatConfig small = NatConfig.builder().mtu(1500).tcpBuffers(1 << 20, 4096).build();
        ScriptedNat n = new ScriptedNat(small);
        n.board(syn());
        n.socket().listener.onConnected();
        n.next();
        n.board(fromBoard(IRS + 1, ISS + 1, A, 0)); // board's window closed
        n.socket().remoteSends(bytes(10000, 1));
        n.endRound();
        assertFalse(n.socket().wantRead, "4 KiB send buffer full: stop reading the host");
        assertEquals(10000 - 4096, n.socket().incoming.remaining());
    }

    @Test
    void flowLimitRefusesNewConnectionsAndSaysWhichFlagToRaise() {
        ScriptedNat n = new ScriptedNat(NatConfig.builder().mtu(1500).limits(1, 10, 1 << 20).build());
        n.board(syn());
        n.board(Segment.of(BOARD_PORT + 1, REMOTE_PORT, IRS, 0, S, 64240).withOptions(1460, 7, true));
        assertEquals(Segment.of(REMOTE_PORT, BOARD_PORT + 1, 0, IRS + 1, R | A, 0), n.next());
        assertEquals(1, n.stats.get(Counter.DROP_TCP_FLOW_LIMIT));
        assertTrue(n.limitLog.getFirst().contains("--max-tcp-flows"), n.limitLog.toString());
    }

    @Test
    void linkCongestionHoldsDataUntilTheLinkDrains() {
        establish();
        nat.congested = true;
        nat.socket().remoteSends("queued".getBytes(StandardCharsets.US_ASCII));
        nat.endRound();
        assertTrue(nat.nothingSent());
        nat.congested = false;
        nat.endRound();
        assertEquals(toBoard(ISS + 1, IRS + 1, A | P, OUR_WINDOW).withPayload("queued"), nat.next());
    }

    // ---- closing ----------------------------------------------------------------

    @Test
    void boardFinHalfClosesTheHostSocketAndDataStillFlowsBack() {
        establish();
        nat.board(fromBoard(IRS + 1, ISS + 1, A | F | P, BOARD_WINDOW).withPayload("req"));
        assertTrue(nat.socket().outputShut, "FIN becomes shutdownOutput on the host socket");
        assertEquals(toBoard(ISS + 1, IRS + 5, A, OUR_WINDOW), nat.next(), "acks data and FIN");
        assertEquals(TcpFlow.State.CLOSE_WAIT, nat.flow().state());
        nat.socket().remoteSends("reply".getBytes(StandardCharsets.US_ASCII));
        nat.endRound();
        assertEquals(toBoard(ISS + 1, IRS + 5, A | P, OUR_WINDOW).withPayload("reply"), nat.next());
        nat.socket().remoteCloses();
        nat.endRound();
        assertEquals(toBoard(ISS + 6, IRS + 5, A | F, OUR_WINDOW), nat.next());
        assertEquals(TcpFlow.State.LAST_ACK, nat.flow().state());
        assertTrue(nat.socket().closed);
        nat.board(fromBoard(IRS + 5, ISS + 7, A, BOARD_WINDOW));
        assertNull(nat.flow(), "LAST_ACK acked: flow gone");
        assertTrue(nat.nothingSent());
    }

    @Test
    void boardFinBehindHeldDataWaitsForTheData() {
        establish();
        nat.socket().writeRoom = 0;
        nat.board(fromBoard(IRS + 1, ISS + 1, A | F, BOARD_WINDOW).withPayload("tail"));
        assertEquals(toBoard(ISS + 1, IRS + 6, A, (1048576 - 4) >> 5), nat.next(), "data and FIN acked, held");
        assertFalse(nat.socket().outputShut, "the host gets the FIN after the data");
        assertEquals(TcpFlow.State.ESTABLISHED, nat.flow().state());
        nat.socket().writeRoom = Integer.MAX_VALUE;
        nat.socket().listener.onWritable();
        nat.endRound();
        assertEquals("tail", new String(nat.socket().takeWritten(), StandardCharsets.US_ASCII));
        assertTrue(nat.socket().outputShut);
        assertEquals(TcpFlow.State.CLOSE_WAIT, nat.flow().state());
        assertTrue(nat.nothingSent(), "the FIN was acked already");
    }

    @Test
    void hostCloseFirstSendsFinThenTimeWait() {
        establish();
        nat.socket().remoteSends("bye".getBytes(StandardCharsets.US_ASCII));
        nat.endRound();
        assertEquals(toBoard(ISS + 1, IRS + 1, A | P, OUR_WINDOW).withPayload("bye"), nat.next());
        nat.socket().remoteCloses();
        nat.endRound();
        assertEquals(toBoard(ISS + 4, IRS + 1, A | F, OUR_WINDOW), nat.next());
        assertEquals(TcpFlow.State.FIN_WAIT_1, nat.flow().state());
        nat.board(fromBoard(IRS + 1, ISS + 5, A, BOARD_WINDOW));
        assertEquals(TcpFlow.State.FIN_WAIT_2, nat.flow().state());
        nat.board(fromBoard(IRS + 1, ISS + 5, A | F, BOARD_WINDOW));
        assertEquals(toBoard(ISS + 5, IRS + 2, A, OUR_WINDOW), nat.next());
        assertEquals(TcpFlow.State.TIME_WAIT, nat.flow().state());
        assertTrue(nat.socket().closed && !nat.socket().aborted);
        nat.board(fromBoard(IRS + 1, ISS + 5, A | F, BOARD_WINDOW));
        assertEquals(toBoard(ISS + 5, IRS + 2, A, OUR_WINDOW), nat.next(), "retransmitted FIN is acked again");
        nat.advance(nat.config.tcpTimeWait().toNanos());
        assertNull(nat.flow());
    }

    @Test
    void finRidesOnTheLastQueuedSegment() {
        establish();
        nat.board(fromBoard(IRS + 1, ISS + 1, A, 0));
        nat.socket().remoteSends("bye".getBytes(StandardCharsets.US_ASCII));
        nat.socket().remoteCloses();
        nat.endRound();
        assertTrue(nat.nothingSent());
        nat.board(fromBoard(IRS + 1, ISS + 1, A, BOARD_WINDOW));
        assertEquals(toBoard(ISS + 1, IRS + 1, A | P | F, OUR_WINDOW).withPayload("bye"), nat.next());
        assertEquals(TcpFlow.State.FIN_WAIT_1, nat.flow().state());
    }

    @Test
    void simultaneousCloseGoesThroughClosing() {
        establish();
        nat.socket().remoteCloses();
        nat.endRound();
        assertEquals(toBoard(ISS + 1, IRS + 1, A | F, OUR_WINDOW), nat.next());
        nat.board(fromBoard(IRS + 1, ISS + 1, A | F, BOARD_WINDOW)); // its FIN crossed ours
        assertEquals(TcpFlow.State.CLOSING, nat.flow().state());
        assertEquals(toBoard(ISS + 2, IRS + 2, A, OUR_WINDOW), nat.next());
        nat.board(fromBoard(IRS + 2, ISS + 2, A, BOARD_WINDOW));
        assertEquals(TcpFlow.State.TIME_WAIT, nat.flow().state());
    }

    @Test
    void lostFinIsRetransmitted() {
        establish();
        nat.socket().remoteCloses();
        nat.endRound();
        Segment fin = nat.next();
        nat.advance(RTO);
        assertEquals(fin, nat.next());
    }

    @Test
    void boardResetAbortsTheHostConnection() {
        establish();
        nat.board(fromBoard(IRS + 1, 0, R, 0));
        assertTrue(nat.socket().aborted);
        assertNull(nat.flow());
        assertTrue(nat.nothingSent());
    }

    @Test
    void resetOutsideTheWindowIsIgnored() {
        establish();
        nat.board(fromBoard(IRS + 5_000_000, 0, R, 0));
        assertEquals(TcpFlow.State.ESTABLISHED, nat.flow().state());
        assertFalse(nat.socket().aborted);
    }

    @Test
    void hostResetBecomesResetToTheBoard() {
        establish();
        nat.socket().failWrites = new IOException("Connection reset by peer");
        nat.board(fromBoard(IRS + 1, ISS + 1, A, BOARD_WINDOW).withPayload("x"));
        assertEquals(toBoard(ISS + 1, IRS + 1, R | A, 0), nat.next());
        assertNull(nat.flow());
    }

    @Test
    void idleFlowIsClosedWithResets() {
        establish();
        nat.advance(nat.config.tcpEstablishedIdle().toNanos() + 1);
        assertEquals(toBoard(ISS + 1, IRS + 1, R | A, 0), nat.next());
        assertNull(nat.flow());
        assertTrue(nat.socket().aborted);
        assertEquals(1, nat.stats.get(Counter.TCP_IDLE_CLOSED));
    }

    @Test
    void activityPostponesTheIdleTimeout() {
        establish();
        long idle = nat.config.tcpEstablishedIdle().toNanos();
        nat.advance(idle / 2);
        nat.board(fromBoard(IRS + 1, ISS + 1, A, BOARD_WINDOW).withPayload("x"));
        nat.advance(TcpFlow.DELAYED_ACK); // no reply came to carry the ack
        nat.next();
        nat.advance(idle / 2 + 1000);
        assertEquals(TcpFlow.State.ESTABLISHED, nat.flow().state());
    }

    @Test
    void segmentForNoFlowIsReset() {
        nat.board(fromBoard(IRS + 1, 777, A, BOARD_WINDOW).withPayload("stale"));
        assertEquals(toBoard(777, 0, R, 0), nat.next());
        nat.board(fromBoard(IRS + 1, 0, F, BOARD_WINDOW));
        assertEquals(toBoard(0, IRS + 2, R | A, 0), nat.next());
        nat.board(fromBoard(IRS + 1, 0, R, 0));
        assertTrue(nat.nothingSent(), "a reset is never answered");
    }

    @Test
    void newSynReplacesAFlowInTimeWait() {
        hostCloseFirstSendsFinThenTimeWaitWithoutExpiry();
        nat.board(fromBoard(IRS + 100_000, 0, S, 64240).withOptions(1460, 7, false));
        assertEquals(2, nat.sockets.size());
        assertEquals(TcpFlow.State.CONNECTING, nat.flow().state());
    }

    private void hostCloseFirstSendsFinThenTimeWaitWithoutExpiry() {
        establish();
        nat.socket().remoteCloses();
        nat.endRound();
        nat.next();
        nat.board(fromBoard(IRS + 1, ISS + 2, A | F, BOARD_WINDOW));
        nat.next();
        assertEquals(TcpFlow.State.TIME_WAIT, nat.flow().state());
    }

    @Test
    void policyRefusalIsAReset() {
        ScriptedNat n = new ScriptedNat();
        byte[] gateway = { 10, 113, 98, 1 };
        byte[] packet = fromBoard(IRS, 0, S, 64240).toPacket(ScriptedNat.BOARD, gateway);
        var ip = new dev.qbkit.qbnet.packet.IpPacket();
        ip.parse(java.nio.ByteBuffer.wrap(packet), 0, packet.length);
        n.table.onPacket(ip);
        assertEquals(toBoard(0, IRS + 1, R | A, 0), Segment.parse(n.sent.poll(), gateway, ScriptedNat.BOARD));
        assertEquals(1, n.stats.get(Counter.DROP_POLICY));
        assertTrue(n.sockets.isEmpty(), "no host connection attempted");
    }

    @Test
    void lossyTransferCompletesThroughRetransmission() {
        establish();
        byte[] data = bytes(300_000, 13);
        nat.socket().remoteSends(data);
        java.util.SplittableRandom random = new java.util.SplittableRandom(42);
        java.io.ByteArrayOutputStream received = new java.io.ByteArrayOutputStream();
        int expected = ISS + 1;
        int rounds = 0;
        for (; rounds < 20_000 && received.size() < data.length; rounds++) {
            nat.endRound();
            while (!nat.nothingSent()) {
                Segment s = nat.next();
                if (random.nextDouble() < 0.05)
                    continue; // lost on the way to the board
                if (s.seq() == expected && s.payload().length > 0) {
                    received.writeBytes(s.payload());
                    expected += s.payload().length;
                }
                if (random.nextDouble() < 0.05)
                    continue; // the board's ack is lost
                nat.board(fromBoard(IRS + 1, expected, A, BOARD_WINDOW)); // cumulative (or duplicate) ack
            }
            nat.socket().listener.onReadable();
            nat.advance(10_000_000L); // 10 ms per round: RTOs fire
        }
        assertArrayEquals(data, received.toByteArray(), "all bytes, in order, after " + rounds + " rounds");
        assertTrue(nat.stats.get(Counter.TCP_RETRANSMITS) > 0);
    }

    @Test
    void everyByteOfALongTransferArrivesInOrder() {
        establish();
        byte[] data = bytes(200_000, 11);
        nat.socket().remoteSends(data);
        java.io.ByteArrayOutputStream received = new java.io.ByteArrayOutputStream();
        int expected = ISS + 1;
        for (int rounds = 0; rounds < 1000 && received.size() < data.length; rounds++) {
            nat.endRound();
            while (!nat.nothingSent()) {
                Segment s = nat.next();
                if (s.seq() == expected) {
                    received.writeBytes(s.payload());
                    expected += s.payload().length;
                }
            }
            nat.board(fromBoard(IRS + 1, expected, A, BOARD_WINDOW));
            nat.socket().listener.onReadable();
        }
        assertArrayEquals(data, received.toByteArray());
    }

    // ---- sequence numbers at a wrap ------------------------------------------------------

    /** Sequence numbers from just below 2^32 (unsigned wrap: 0xFFFFFFFF to 0). */
    @Nested
    class NearTwoToThe32 extends AcrossAWrap {
        NearTwoToThe32() {
            super(0);
        }
    }

    /** Sequence numbers from just below 2^31 (where a signed int comparison would break: 0x7FFFFFFF to 0x80000000). */
    @Nested
    class NearTwoToThe31 extends AcrossAWrap {
        NearTwoToThe31() {
            super(Integer.MIN_VALUE);
        }
    }

    /** The same exchanges with both initial sequence numbers just below {@code wrap}: everything crosses it. */
    abstract class AcrossAWrap {
        final int wrap;
        final int iss; // our data crosses the wrap after 9 bytes
        final int irs; // the board's after 19
        final ScriptedNat w = new ScriptedNat();

        AcrossAWrap(int wrap) {
            this.wrap = wrap;
            this.iss = wrap - 10;
            this.irs = wrap - 20;
        }

        void establishNearTheWrap(int ourIss, int boardIrs) {
            w.iss = ourIss;
            w.board(fromBoard(boardIrs, 0, S, 64240).withOptions(1460, 7, true));
            w.socket().listener.onConnected();
            assertEquals(toBoard(ourIss, boardIrs + 1, S | A, 65535).withOptions(1460, 5, true), w.next());
            w.board(fromBoard(boardIrs + 1, ourIss + 1, A, BOARD_WINDOW));
            assertEquals(TcpFlow.State.ESTABLISHED, w.flow().state());
        }

        @Test
        void boardDataAcrossTheWrapIsDeliveredAndAcked() {
            establishNearTheWrap(iss, irs);
            byte[] data = bytes(2920, 17);
            w.boardInOneRound(fromBoard(irs + 1, iss + 1, A, BOARD_WINDOW).withPayload(Arrays.copyOfRange(data, 0, 1460)),
                    fromBoard(irs + 1461, iss + 1, A, BOARD_WINDOW).withPayload(Arrays.copyOfRange(data, 1460, 2920)));
            assertEquals(toBoard(iss + 1, wrap + 2901, A, OUR_WINDOW), w.next(), "the ack is past the wrap");
            assertArrayEquals(data, w.socket().takeWritten());
            w.board(fromBoard(irs + 1, iss + 1, A, BOARD_WINDOW).withPayload(Arrays.copyOfRange(data, 0, 1460)));
            assertEquals(toBoard(iss + 1, wrap + 2901, A, OUR_WINDOW), w.next(), "a retransmission from before the wrap is old");
            assertEquals(0, w.socket().takeWritten().length);
        }

        @Test
        void hostDataAcrossTheWrapIsSentRetransmittedAndAcked() {
            establishNearTheWrap(iss, irs);
            byte[] data = bytes(3000, 18);
            w.socket().remoteSends(data);
            w.endRound();
            assertEquals(toBoard(iss + 1, irs + 1, A | P, OUR_WINDOW).withPayload(Arrays.copyOfRange(data, 0, 1460)), w.next());
            assertEquals(toBoard(wrap + 1451, irs + 1, A | P, OUR_WINDOW).withPayload(Arrays.copyOfRange(data, 1460, 2920)),
                    w.next());
            assertEquals(toBoard(wrap + 2911, irs + 1, A | P, OUR_WINDOW).withPayload(Arrays.copyOfRange(data, 2920, 3000)),
                    w.next());
            w.board(fromBoard(irs + 1, wrap + 1451, A, BOARD_WINDOW)); // the first segment, acked across the wrap
            w.advance(RTO);
            assertEquals(toBoard(wrap + 1451, irs + 1, A | P, OUR_WINDOW).withPayload(Arrays.copyOfRange(data, 1460, 2920)),
                    w.next(), "the rest goes again from the ack");
            w.board(fromBoard(irs + 1, wrap + 2991, A, BOARD_WINDOW));
            w.advance(10 * RTO);
            assertTrue(w.nothingSent(), "all acked: nothing more");
            assertEquals(0, w.flow().bufferedBytes());
        }

        @Test
        void sackBlocksAcrossTheWrap() {
            establishNearTheWrap(iss, irs);
            byte[] data = bytes(40, 19);
            w.board(fromBoard(irs + 11, iss + 1, A, BOARD_WINDOW).withPayload(Arrays.copyOfRange(data, 10, 30)));
            assertEquals(toBoard(iss + 1, irs + 1, A, OUR_WINDOW).withSack(wrap - 9, wrap + 11), w.next(),
                    "one block holds the data on both sides of the wrap");
            w.board(fromBoard(irs + 31, iss + 1, A, BOARD_WINDOW).withPayload(Arrays.copyOfRange(data, 30, 40)));
            assertEquals(toBoard(iss + 1, irs + 1, A, OUR_WINDOW).withSack(wrap - 9, wrap + 21), w.next(),
                    "adjacent pieces merge across the wrap");
            w.board(fromBoard(irs + 1, iss + 1, A, BOARD_WINDOW).withPayload(Arrays.copyOfRange(data, 0, 10)));
            assertArrayEquals(data, w.socket().takeWritten());
            w.advance(TcpFlow.DELAYED_ACK);
            assertEquals(toBoard(iss + 1, wrap + 21, A, OUR_WINDOW), w.next());
            assertEquals(0, w.buffers.inUseBytes());
        }

        @Test
        void finsAcrossTheWrap() {
            establishNearTheWrap(iss, irs);
            w.board(fromBoard(irs + 1, iss + 1, A | F, BOARD_WINDOW).withPayload(bytes(19, 20))); // data to the wrap, FIN on it
            assertEquals(toBoard(iss + 1, wrap + 1, A, OUR_WINDOW), w.next(), "the FIN at the wrap is acked");
            assertTrue(w.socket().outputShut);
            assertEquals(TcpFlow.State.CLOSE_WAIT, w.flow().state());
            w.socket().remoteSends(bytes(8, 21)); // our data ends just before the wrap: our FIN takes the last number
            w.socket().remoteCloses();
            w.endRound();
            assertEquals(toBoard(iss + 1, wrap + 1, A | P, OUR_WINDOW).withPayload(bytes(8, 21)), w.next());
            assertEquals(toBoard(wrap - 1, wrap + 1, A | F, OUR_WINDOW), w.next());
            assertEquals(TcpFlow.State.LAST_ACK, w.flow().state());
            w.advance(RTO);
            assertEquals(toBoard(iss + 1, wrap + 1, A | P | F, OUR_WINDOW).withPayload(bytes(8, 21)), w.next(),
                    "resent, with the FIN, until acked");
            w.board(fromBoard(wrap + 1, wrap, A, BOARD_WINDOW)); // acks our FIN: across the wrap
            assertNull(w.flow(), "LAST_ACK ends");
        }

        @Test
        void probesAtTheWrap() {
            int last = wrap - 1;
            establishNearTheWrap(last, last); // snd.una and rcv.nxt are the wrap: both probes use the number before it
            w.board(fromBoard(wrap, wrap, A, 0));
            w.socket().remoteSends("x".getBytes(StandardCharsets.US_ASCII));
            w.endRound();
            w.advance(RTO);
            assertEquals(toBoard(last, wrap, A, OUR_WINDOW), w.next(), "our zero-window probe");
            w.board(fromBoard(wrap, wrap, A, BOARD_WINDOW));
            assertEquals(toBoard(wrap, wrap, A | P, OUR_WINDOW).withPayload("x"), w.next());
            w.board(fromBoard(wrap, wrap + 1, A, BOARD_WINDOW));
            w.advance(30_000_000_000L);
            w.board(fromBoard(last, wrap + 1, A, BOARD_WINDOW)); // the board's keepalive
            assertEquals(toBoard(wrap + 1, wrap, A, OUR_WINDOW), w.next());
            assertArrayEquals(new int[] { 30, 30, 9 }, w.socket().keepAlive);
        }
    }
}
