// Fuzz test of one board's TCP flows through ScriptedNat (issue 14, defect 6):
// whatever the board sends and however the host socket behaves (slow, failing
// mid-write, failing reads, closing), every byte a flow reserved in the
// board's BufferPool is returned the moment the flow ends, and the pool never
// exceeds its cap. Input bytes are read front to back with robust/FuzzInput,
// one byte per action and per argument, so the committed regression inputs
// can be written by hand.
package dev.qbkit.qbnet.nat;

import static dev.qbkit.qbnet.nat.Segment.A;
import static dev.qbkit.qbnet.nat.Segment.F;
import static dev.qbkit.qbnet.nat.Segment.P;
import static dev.qbkit.qbnet.nat.Segment.R;
import static dev.qbkit.qbnet.nat.Segment.S;
import static dev.qbkit.qbnet.nat.ScriptedNat.BOARD_PORT;
import static dev.qbkit.qbnet.nat.ScriptedNat.ISS;
import static dev.qbkit.qbnet.nat.ScriptedNat.REMOTE_PORT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;

import com.code_intelligence.jazzer.junit.FuzzTest;

import dev.qbkit.qbnet.robust.FuzzInput;

class TcpFlowFuzzTest {
    static final int IRS = 5000;

    /** The board side of one flow: what it sent and what it has seen of ours. */
    static final class Board {
        int sent; // bytes past IRS + 1 sent in order so far
        boolean finSent;
        int ourEnd = ISS + 1; // the end of what we sent it
    }

    /**
     * Input: actions, one byte each plus its arguments (see run). Flows open
     * one after another (a SYN whenever none is open); after every action a
     * flow that ended has given back all it reserved.
     */
    @FuzzTest(maxDuration = "2m")
    void reservationsReturnToZeroWhenEveryFlowEnds(byte[] data) {
        ScriptedNat nat = new ScriptedNat(NatConfig.builder().mtu(1500).tcpBuffers(16384, 8192)
                .limits(4, 4, 8 * BufferPool.CHUNK_SIZE).build());
        FuzzInput in = new FuzzInput(data);
        Board board = null;
        int steps = 0;
        while (in.hasMore() && steps++ < 200) {
            if (nat.flow() == null) {
                board = open(nat);
                continue;
            }
            run(nat, board, in);
            drain(nat, board);
            if (nat.flow() == null)
                assertEquals(0, nat.buffers.inUseBytes(), "a flow ended holding reservations, after step " + steps);
            assertTrue(nat.buffers.inUseBytes() <= nat.buffers.maxBytes(), "over the board's cap");
        }
        if (nat.flow() != null)
            nat.flow().abortWithReset();
        assertEquals(0, nat.buffers.inUseBytes(), "reservations left once every flow ended");
        assertEquals(0, nat.timers.size(), "timers left once every flow ended");
    }

    static Board open(ScriptedNat nat) {
        nat.board(Segment.of(BOARD_PORT, REMOTE_PORT, IRS, 0, S, 64240).withOptions(1460, 7, true));
        nat.socket().listener.onConnected();
        nat.endRound();
        Board b = new Board();
        drain(nat, b);
        nat.board(board(IRS + 1, b.ourEnd, A, 502));
        return b;
    }

    static Segment board(int seq, int ack, int flags, int window) {
        return Segment.of(BOARD_PORT, REMOTE_PORT, seq, ack, flags, window);
    }

    /** Reads what the NAT sent the board, keeping the end of our data for the board's acks. */
    static void drain(ScriptedNat nat, Board b) {
        while (!nat.nothingSent()) {
            Segment s = nat.next();
            int end = s.seq() + s.payload().length + ((s.flags() & (S | F)) != 0 ? 1 : 0);
            if ((s.flags() & R) == 0 && Seq.after(end, b.ourEnd))
                b.ourEnd = end;
        }
    }

    /**
     * 0 in-order board data (length), 1 out-of-order data (gap, length), 2 a
     * board ack (window open or shut), 3 the host socket's room (none, some,
     * all) and a writable event, 4 the host peer sends (length), 5 the host
     * peer closes, 6 host writes fail after some more go through, 7 a host
     * read fails, 8 time passes (delayed ack, RTO, persist, idle), 9 the
     * board's FIN, 10 the board's RST, 11 link congestion toggles.
     */
    static void run(ScriptedNat nat, Board b, FuzzInput in) {
        FakeSocket socket = nat.socket();
        int seqBase = IRS + 1;
        switch (in.between(0, 11)) {
            case 0 -> {
                int length = 1 + in.between(0, 255) * 23;
                nat.board(board(seqBase + b.sent, b.ourEnd, A | P, 502).withPayload(TcpFlowTest.bytes(length, b.sent)));
                b.sent += length;
            }
            case 1 -> {
                int gap = 1 + in.between(0, 63) * 37;
                int length = 1 + in.between(0, 63) * 41;
                nat.board(board(seqBase + b.sent + gap, b.ourEnd, A, 502).withPayload(TcpFlowTest.bytes(length, gap)));
            }
            case 2 -> nat.board(board(seqBase + b.sent + (b.finSent ? 1 : 0), b.ourEnd, A, in.between(0, 1) == 0 ? 0 : 502));
            case 3 -> {
                socket.writeRoom = switch (in.between(0, 2)) {
                    case 0 -> 0;
                    case 1 -> 1 + in.between(0, 255) * 17;
                    default -> Integer.MAX_VALUE;
                };
                if (socket.listener != null)
                    socket.listener.onWritable();
                nat.endRound();
            }
            case 4 -> {
                socket.remoteSends(TcpFlowTest.bytes(1 + in.between(0, 255) * 61, 3));
                nat.endRound();
            }
            case 5 -> {
                socket.remoteCloses();
                nat.endRound();
            }
            case 6 -> {
                socket.failLaterWrites = new IOException("Connection reset by peer");
                socket.writesBeforeFailure = in.between(0, 2);
            }
            case 7 -> {
                socket.failReads = new IOException("Connection timed out");
                socket.listener.onReadable();
                nat.endRound();
            }
            case 8 -> nat.advance(switch (in.between(0, 3)) {
                case 0 -> TcpFlow.DELAYED_ACK;
                case 1 -> TcpFlow.MIN_RTO;
                case 2 -> 10_000_000_000L; // the longest zero-window probe interval
                default -> nat.config.tcpEstablishedIdle().toNanos();
            });
            case 9 -> {
                nat.board(board(seqBase + b.sent, b.ourEnd, A | F, 502));
                b.finSent = true;
            }
            case 10 -> nat.board(board(seqBase + b.sent + (b.finSent ? 1 : 0), 0, R, 0));
            default -> {
                nat.congested = !nat.congested;
                nat.endRound();
            }
        }
    }
}
