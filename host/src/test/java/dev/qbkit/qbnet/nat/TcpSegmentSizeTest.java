// Segments to the board fit the link MTU even when they carry SACK blocks
// (RFC 6691: options come out of the MSS): the board drops any IP frame over
// the MTU, so an oversized segment would be lost on every retransmission.
// Found by the NAT property test (now NatFuzzTest).
package dev.qbkit.qbnet.nat;

import static dev.qbkit.qbnet.nat.Segment.A;
import static dev.qbkit.qbnet.nat.Segment.S;
import static dev.qbkit.qbnet.nat.ScriptedNat.BOARD_PORT;
import static dev.qbkit.qbnet.nat.ScriptedNat.ISS;
import static dev.qbkit.qbnet.nat.ScriptedNat.REMOTE_PORT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TcpSegmentSizeTest {
    static final int IRS = 5000;

    @ParameterizedTest
    @ValueSource(ints = { 576, 1500, 9000 })
    void dataSegmentsWithSackBlocksStayWithinTheMtu(int mtu) {
        ScriptedNat nat = new ScriptedNat(NatConfig.defaults().withMtu(mtu));
        nat.board(Segment.of(BOARD_PORT, REMOTE_PORT, IRS, 0, S, 64240).withOptions(mtu - 40, 7, true));
        nat.socket().listener.onConnected();
        nat.endRound();
        nat.next(); // SYN-ACK
        nat.board(Segment.of(BOARD_PORT, REMOTE_PORT, IRS + 1, ISS + 1, A, 502));
        // Board data past a hole: held, and SACKed in every ack from now on (three blocks at most).
        for (int k = 0; k < 4; k++)
            nat.board(Segment.of(BOARD_PORT, REMOTE_PORT, IRS + 101 + 20 * k, ISS + 1, A, 502).withPayload("0123456789"));
        nat.sent.clear();
        nat.offloadHeaders.clear();
        nat.socket().remoteSends(new byte[4 * mtu]);
        nat.endRound();
        int data = 0;
        while (!nat.nothingSent()) {
            byte[] packet = nat.sent.peek();
            Segment s = nat.next();
            assertTrue(packet.length <= mtu, "a segment of " + packet.length + " bytes (" + s.payload().length
                    + " of data, " + s.sack().length / 2 + " SACK blocks) over the MTU of " + mtu);
            data += s.payload().length;
        }
        assertTrue(data > 0, "data went out");
        assertEquals(0, nat.stats.get(Counter.DROP_TCP_OUT_OF_ORDER));
    }
}
