// A reset from the board in every state of a flow: the host side is aborted
// (the host peer sees a reset too) and the flow is gone, nothing is answered.
package dev.qbkit.qbnet.nat;

import static dev.qbkit.qbnet.nat.Segment.A;
import static dev.qbkit.qbnet.nat.Segment.F;
import static dev.qbkit.qbnet.nat.Segment.R;
import static dev.qbkit.qbnet.nat.Segment.S;
import static dev.qbkit.qbnet.nat.ScriptedNat.BOARD_PORT;
import static dev.qbkit.qbnet.nat.ScriptedNat.ISS;
import static dev.qbkit.qbnet.nat.ScriptedNat.REMOTE_PORT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.Consumer;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class TcpResetTest {
    static final int IRS = 5000;

    static Segment fromBoard(int seq, int ack, int flags, int window) {
        return Segment.of(BOARD_PORT, REMOTE_PORT, seq, ack, flags, window);
    }

    /** How to bring a fresh flow into each state, and the sequence number its RST carries. */
    enum Path {
        SYN_RECEIVED(n -> {
        }, IRS + 1),
        ESTABLISHED(n -> n.board(fromBoard(IRS + 1, ISS + 1, A, 502)), IRS + 1),
        CLOSE_WAIT(n -> {
            n.board(fromBoard(IRS + 1, ISS + 1, A, 502));
            n.board(fromBoard(IRS + 1, ISS + 1, A | F, 502));
        }, IRS + 2),
        LAST_ACK(n -> {
            CLOSE_WAIT.reach.accept(n);
            n.socket().remoteCloses();
            n.endRound();
        }, IRS + 2),
        FIN_WAIT_1(n -> {
            ESTABLISHED.reach.accept(n);
            n.socket().remoteCloses();
            n.endRound();
        }, IRS + 1),
        FIN_WAIT_2(n -> {
            FIN_WAIT_1.reach.accept(n);
            n.board(fromBoard(IRS + 1, ISS + 2, A, 502));
        }, IRS + 1),
        CLOSING(n -> {
            FIN_WAIT_1.reach.accept(n);
            n.board(fromBoard(IRS + 1, ISS + 1, A | F, 502));
        }, IRS + 2),
        TIME_WAIT(n -> {
            FIN_WAIT_2.reach.accept(n);
            n.board(fromBoard(IRS + 1, ISS + 2, A | F, 502));
        }, IRS + 2);

        final Consumer<ScriptedNat> reach;
        final int rstSeq;

        Path(Consumer<ScriptedNat> reach, int rstSeq) {
            this.reach = reach;
            this.rstSeq = rstSeq;
        }
    }

    @ParameterizedTest
    @EnumSource(Path.class)
    void resetFromTheBoardEndsTheFlow(Path path) {
        ScriptedNat nat = new ScriptedNat();
        nat.board(fromBoard(IRS, 0, S, 64240).withOptions(1460, 7, false));
        nat.socket().listener.onConnected();
        path.reach.accept(nat);
        assertEquals(TcpFlow.State.valueOf(path.name()), nat.flow().state());
        nat.sent.clear();
        nat.board(fromBoard(path.rstSeq, 0, R, 0));
        assertNull(nat.flow(), "flow freed");
        assertTrue(nat.nothingSent(), "a reset is never answered");
        assertTrue(nat.socket().closed, "host socket closed");
        assertEquals(0, nat.buffers.inUseBytes(), "no buffers held");
    }
}
