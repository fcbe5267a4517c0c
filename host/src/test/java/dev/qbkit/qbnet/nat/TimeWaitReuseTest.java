// At the flow limit, a new connection from the board takes the place of the
// oldest flow in TIME_WAIT instead of being refused: a board opening HTTP/1.0
// connections (the server closes first, so the NAT's end waits 2 s) at more
// than maxTcpFlows / 2 s per second must not see resets (issue 15's bench).
package dev.qbkit.qbnet.nat;

import static dev.qbkit.qbnet.nat.Segment.A;
import static dev.qbkit.qbnet.nat.Segment.F;
import static dev.qbkit.qbnet.nat.Segment.P;
import static dev.qbkit.qbnet.nat.Segment.R;
import static dev.qbkit.qbnet.nat.Segment.S;
import static dev.qbkit.qbnet.nat.ScriptedNat.ISS;
import static dev.qbkit.qbnet.nat.ScriptedNat.REMOTE_PORT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

import org.junit.jupiter.api.Test;

class TimeWaitReuseTest {
    static final int IRS = 9000;
    static final int LIMIT = 3;

    final ScriptedNat nat = new ScriptedNat(NatConfig.defaults().toBuilder().mtu(1500)
            .limits(LIMIT, 64, 64L << 20)
            .tcpTimeouts(Duration.ofSeconds(10), Duration.ofHours(2), Duration.ofMinutes(5), Duration.ofSeconds(2))
            .build());

    static Segment fromBoard(int port, int seq, int ack, int flags) {
        return Segment.of(port, REMOTE_PORT, seq, ack, flags, 502);
    }

    TcpFlow flow(int boardPort) {
        return nat.table.get(new FlowKey(6, ScriptedNat.BOARD, boardPort, ScriptedNat.REMOTE, REMOTE_PORT));
    }

    /** An HTTP/1.0 exchange from board port {@code port}: the server answers and closes first. */
    void exchange(int port) {
        nat.board(fromBoard(port, IRS, 0, S).withOptions(1460, 7, true));
        nat.socket().listener.onConnected();
        nat.endRound();
        nat.board(fromBoard(port, IRS + 1, ISS + 1, A | P).withPayload("GET"));
        nat.socket().remoteSends("200".getBytes(StandardCharsets.US_ASCII));
        nat.socket().remoteCloses();
        nat.endRound();
        // The board acks the answer and the FIN, then closes its side: the NAT's end enters TIME_WAIT.
        nat.board(fromBoard(port, IRS + 4, ISS + 5, A | F));
        nat.sent.clear();
        nat.offloadHeaders.clear();
    }

    @Test
    void aNewConnectionAtTheLimitTakesTheOldestTimeWaitSlot() {
        for (int port = 41000; port < 41000 + LIMIT; port++)
            exchange(port);
        assertEquals(LIMIT, nat.table.size());
        assertEquals(TcpFlow.State.TIME_WAIT, flow(41000).state());

        nat.board(fromBoard(42000, IRS, 0, S).withOptions(1460, 7, true));
        nat.socket().listener.onConnected();
        nat.endRound();

        assertNotNull(flow(42000),
                "the new connection has a flow");
        assertNull(flow(41000),
                "the oldest TIME_WAIT flow made room");
        assertNotNull(flow(41001));
        assertEquals(0, nat.stats.get(Counter.DROP_TCP_FLOW_LIMIT));
        assertEquals(1, nat.stats.get(Counter.TCP_TIME_WAIT_REUSED));
        assertEquals(S | A, nat.next().flags() & (S | A | R), "a SYN-ACK, not a reset");
    }

    @Test
    void withoutTimeWaitFlowsTheLimitStillRefuses() {
        for (int port = 41000; port < 41000 + LIMIT; port++) {
            nat.board(fromBoard(port, IRS, 0, S).withOptions(1460, 7, true));
            nat.socket().listener.onConnected();
            nat.endRound();
        }
        nat.sent.clear();
        nat.board(fromBoard(42000, IRS, 0, S).withOptions(1460, 7, true));
        assertNull(flow(42000));
        assertEquals(1, nat.stats.get(Counter.DROP_TCP_FLOW_LIMIT));
        assertEquals(LIMIT, nat.table.size());
    }
}
