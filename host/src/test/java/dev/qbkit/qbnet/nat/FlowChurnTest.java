// Many short connections through one board's NAT, one after another: what a
// closed flow leaves in the timer queue must not pile up (issue 14, defect 5;
// the idle timer of each closed flow used to stay filed for 2 h).
package dev.qbkit.qbnet.nat;

import static dev.qbkit.qbnet.nat.Segment.A;
import static dev.qbkit.qbnet.nat.Segment.F;
import static dev.qbkit.qbnet.nat.Segment.P;
import static dev.qbkit.qbnet.nat.Segment.S;
import static dev.qbkit.qbnet.nat.ScriptedNat.BOARD_PORT;
import static dev.qbkit.qbnet.nat.ScriptedNat.ISS;
import static dev.qbkit.qbnet.nat.ScriptedNat.REMOTE_PORT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.ref.WeakReference;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

class FlowChurnTest {
    static final int CONNECTIONS = 100_000;
    static final int IRS = 7000;

    final ScriptedNat nat = new ScriptedNat();

    static Segment fromBoard(int seq, int ack, int flags) {
        return Segment.of(BOARD_PORT, REMOTE_PORT, seq, ack, flags, 502);
    }

    /** One request/response connection, the board closing first; the flow is gone at the end. */
    WeakReference<TcpFlow> oneConnection() {
        nat.board(fromBoard(IRS, 0, S).withOptions(1460, 7, true));
        WeakReference<TcpFlow> flow = new WeakReference<>(nat.flow());
        nat.socket().listener.onConnected();
        nat.endRound();
        nat.board(fromBoard(IRS + 1, ISS + 1, A));
        nat.board(fromBoard(IRS + 1, ISS + 1, A | P | F).withPayload("GET"));
        nat.socket().remoteSends("200".getBytes(StandardCharsets.US_ASCII));
        nat.socket().remoteCloses();
        nat.endRound();
        nat.board(fromBoard(IRS + 5, ISS + 5, A));
        nat.sent.clear();
        nat.offloadHeaders.clear();
        nat.sockets.clear(); // the test's own references to the flow go with its socket
        nat.advance(1_000_000L); // 1 ms per connection: nothing is due for hours
        return flow;
    }

    @Test
    void closedFlowsLeaveNothingInTheTimerQueue() {
        oneConnection();
        assertNull(nat.flow(), "the script ends each connection");
        int afterFirst = nat.timers.size();
        int most = afterFirst;
        for (int i = 1; i < CONNECTIONS; i++) {
            oneConnection();
            most = Math.max(most, nat.timers.size());
        }
        assertEquals(0, nat.table.size());
        assertEquals(CONNECTIONS, nat.stats.get(Counter.TCP_FLOWS_CLOSED));
        assertEquals(0, most, "timers filed at most over " + CONNECTIONS + " closed connections (" + afterFirst
                + " after the first): each closed flow must leave none");
    }

    @Test
    void aClosedFlowIsNotReachableFromTheTimers() {
        WeakReference<TcpFlow> first = oneConnection();
        assertNull(nat.flow());
        for (int i = 0; i < 10 && first.get() != null; i++)
            System.gc();
        assertTrue(first.get() == null, "the closed flow is garbage, not held by a cancelled timer for 2 h");
    }
}
