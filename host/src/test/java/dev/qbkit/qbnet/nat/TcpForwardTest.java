// Packet-in/packet-out tests of connections forwarded from the host into the
// board (active open): our SYN, the board's SYN-ACK or refusal, and data.
package dev.qbkit.qbnet.nat;

import static dev.qbkit.qbnet.nat.Segment.A;
import static dev.qbkit.qbnet.nat.Segment.P;
import static dev.qbkit.qbnet.nat.Segment.R;
import static dev.qbkit.qbnet.nat.Segment.S;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

import dev.qbkit.qbnet.packet.IpPacket;

class TcpForwardTest {
    static final byte[] GATEWAY = { 10, 113, 98, 1 };
    static final int PORT = TcpTable.FORWARD_PORT_MIN;
    static final int SSH = 22;
    static final int ISS = ScriptedNat.ISS;
    static final int BOARD_ISS = 777_000;

    final ScriptedNat nat = new ScriptedNat();
    final FakeSocket client = new FakeSocket();

    TcpFlow forward() {
        return nat.table.forward(client, new InetSocketAddress("127.0.0.1", 51000), GATEWAY, ScriptedNat.BOARD, SSH);
    }

    Segment sent() {
        return Segment.parse(nat.sent.poll(), GATEWAY, ScriptedNat.BOARD);
    }

    void board(Segment s) {
        byte[] packet = s.toPacket(ScriptedNat.BOARD, GATEWAY);
        IpPacket ip = new IpPacket();
        ip.parse(ByteBuffer.wrap(packet), 0, packet.length);
        nat.table.onPacket(ip);
        nat.endRound();
    }

    static Segment fromBoard(int seq, int ack, int flags, int window) {
        return Segment.of(SSH, PORT, seq, ack, flags, window);
    }

    static Segment toBoard(int seq, int ack, int flags, int window) {
        return Segment.of(PORT, SSH, seq, ack, flags, window);
    }

    @Test
    void forwardSendsSynWithOurOptions() {
        TcpFlow flow = forward();
        assertEquals(TcpFlow.State.SYN_SENT, flow.state());
        assertEquals(toBoard(ISS, 0, S, 65535).withOptions(1460, 5, true), sent());
    }

    @Test
    void synAckEstablishesAndDataFlowsBothWays() {
        forward();
        sent();
        board(fromBoard(BOARD_ISS, ISS + 1, S | A, 64240).withOptions(1460, 7, false));
        assertEquals(toBoard(ISS + 1, BOARD_ISS + 1, A, 32768), sent());
        assertEquals(TcpFlow.State.ESTABLISHED, nat.flow(SSH, PORT).state());
        board(fromBoard(BOARD_ISS + 1, ISS + 1, A | P, 502).withPayload("SSH-2.0-board\r\n"));
        assertEquals("SSH-2.0-board\r\n", new String(client.takeWritten(), StandardCharsets.US_ASCII));
        nat.advance(TcpFlow.DELAYED_ACK); // no reply came to carry the ack
        assertEquals(toBoard(ISS + 1, BOARD_ISS + 16, A, 32768), sent());
        client.remoteSends("SSH-2.0-host\r\n".getBytes(StandardCharsets.US_ASCII));
        nat.endRound();
        assertEquals(toBoard(ISS + 1, BOARD_ISS + 16, A | P, 32768).withPayload("SSH-2.0-host\r\n"), sent());
    }

    @Test
    void clientDataBeforeTheHandshakeIsHeldUntilEstablished() {
        forward();
        sent();
        client.remoteSends("early".getBytes(StandardCharsets.US_ASCII));
        nat.endRound();
        assertTrue(nat.nothingSent(), "no data before the SYN-ACK");
        board(fromBoard(BOARD_ISS, ISS + 1, S | A, 64240).withOptions(1460, 7, false));
        assertEquals(toBoard(ISS + 1, BOARD_ISS + 1, A, 32768), sent());
        assertEquals(toBoard(ISS + 1, BOARD_ISS + 1, A | P, 32768).withPayload("early"), sent());
    }

    @Test
    void noWindowScalingWhenTheBoardDoesNotAnswerIt() {
        forward();
        sent();
        board(fromBoard(BOARD_ISS, ISS + 1, S | A, 29200).withOptions(1460, -1, false));
        assertEquals(toBoard(ISS + 1, BOARD_ISS + 1, A, 65535), sent(), "unscaled window");
    }

    @Test
    void boardRefusalResetsTheClient() {
        forward();
        sent();
        board(fromBoard(0, ISS + 1, R | A, 0));
        assertTrue(client.aborted, "the host client gets a reset");
        assertNull(nat.flow(SSH, PORT));
    }

    @Test
    void unansweredSynIsRetransmittedThenGivenUp() {
        forward();
        Segment syn = sent();
        nat.advance(TcpFlow.INITIAL_RTO);
        assertEquals(syn, sent());
        for (int i = 1; i <= TcpFlow.MAX_SYNACK_RETRANSMITS; i++)
            nat.advance(TcpFlow.INITIAL_RTO << i);
        assertNull(nat.flow(SSH, PORT));
        assertTrue(client.aborted);
    }

    @Test
    void wrongAckInSynSentIsReset() {
        forward();
        sent();
        board(fromBoard(BOARD_ISS, ISS + 99, S | A, 64240).withOptions(1460, 7, false));
        assertEquals(toBoard(ISS + 99, 0, R, 0), sent());
        assertEquals(TcpFlow.State.SYN_SENT, nat.flow(SSH, PORT).state());
    }

    @Test
    void forwardedPortsDoNotCollide() {
        forward();
        TcpFlow second = nat.table.forward(new FakeSocket(), new InetSocketAddress("127.0.0.1", 51001), GATEWAY,
                ScriptedNat.BOARD, SSH);
        assertEquals(PORT + 1, second.key().remotePort());
    }
}
