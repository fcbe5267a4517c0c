// ReadSize: the adaptive host-socket read size grows on full reads, shrinks
// on small ones, and stays within one chunk and one scattering read; a flow
// answering a request takes one chunk for it, a download still fills its buffer.
package dev.qbkit.qbnet.nat;

import static dev.qbkit.qbnet.nat.ScriptedNat.BOARD_PORT;
import static dev.qbkit.qbnet.nat.ScriptedNat.ISS;
import static dev.qbkit.qbnet.nat.ScriptedNat.REMOTE_PORT;
import static dev.qbkit.qbnet.nat.Segment.A;
import static dev.qbkit.qbnet.nat.Segment.S;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ReadSizeTest {
    @Test
    void startsAtOneChunkAndNeverAsksPastTheRoom() {
        ReadSize size = new ReadSize();
        assertEquals(ReadSize.MIN, size.next(Integer.MAX_VALUE));
        assertEquals(100, size.next(100));
    }

    @Test
    void fullReadsDoubleUpToOneScatteringRead() {
        ReadSize size = new ReadSize();
        int asked = size.next(Integer.MAX_VALUE);
        for (int i = 0; i < 10; i++) {
            size.record(asked, asked);
            asked = size.next(Integer.MAX_VALUE);
        }
        assertEquals(ReadSize.MAX, asked);
    }

    @Test
    void aFullReadCappedByTheRoomDoesNotGrowTheGuess() {
        ReadSize size = new ReadSize();
        size.record(100, size.next(100));
        assertEquals(ReadSize.MIN, size.guess());
    }

    @Test
    void smallReadsHalveDownToOneChunk() {
        ReadSize size = new ReadSize();
        for (int i = 0; i < 4; i++)
            size.record(size.next(Integer.MAX_VALUE), size.next(Integer.MAX_VALUE));
        assertEquals(16 * BufferPool.CHUNK_SIZE, size.guess());
        size.record(1, size.next(Integer.MAX_VALUE));
        assertEquals(8 * BufferPool.CHUNK_SIZE, size.guess());
        for (int i = 0; i < 10; i++)
            size.record(1, size.next(Integer.MAX_VALUE));
        assertEquals(ReadSize.MIN, size.guess());
    }

    @Test
    void aReadOfAQuarterOrMoreKeepsTheGuess() {
        ReadSize size = new ReadSize();
        size.record(ReadSize.MIN, ReadSize.MIN);
        int guess = size.guess();
        size.record(guess / 4, guess);
        assertEquals(guess, size.guess());
    }

    private static ScriptedNat established() {
        ScriptedNat nat = new ScriptedNat(NatConfig.defaults());
        nat.board(Segment.of(BOARD_PORT, REMOTE_PORT, 5000, 0, S, 64240).withOptions(1460, 7, true));
        nat.socket().listener.onConnected();
        nat.endRound();
        nat.next(); // SYN-ACK
        nat.board(Segment.of(BOARD_PORT, REMOTE_PORT, 5001, ISS + 1, A, 502));
        nat.endRound();
        return nat;
    }

    @Test
    void aOneByteAnswerTakesOneChunkNotAFullRead() {
        ScriptedNat nat = established();
        nat.socket().remoteSends(new byte[] { 'x' });
        nat.endRound();
        assertEquals(1, nat.next().payload().length);
        assertEquals(BufferPool.CHUNK_SIZE, nat.buffers.peakBytes(),
                "a 1-byte read borrowed " + nat.buffers.peakBytes() / BufferPool.CHUNK_SIZE + " chunks");
    }

    @Test
    void aDownloadStillFillsTheFlowsSendBuffer() {
        ScriptedNat nat = established();
        nat.socket().remoteSends(new byte[4 << 20]);
        nat.endRound();
        assertEquals(NatConfig.defaults().tcpSendBuffer(), nat.buffers.peakBytes());
    }
}
