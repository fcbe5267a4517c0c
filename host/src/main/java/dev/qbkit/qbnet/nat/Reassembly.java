// Board data that arrived beyond a hole, held until the hole is filled so a
// single retransmission repairs a loss (RFC 9293 lets a receiver keep it),
// and the SACK blocks (RFC 2018) that tell the board what is already here.
// Bounded by the window and by the board's buffer cap.
package dev.qbkit.qbnet.nat;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

final class Reassembly {
    static final int MAX_PIECES = 64;
    static final int MAX_SACK_BLOCKS = 3;

    record Piece(int seq, byte[] data, boolean fin) {
        int end() {
            return seq + data.length;
        }
    }

    private final BufferPool pool;
    private final List<Piece> pieces = new ArrayList<>(); // sorted by seq, not overlapping
    private int bytes;
    private int lastSeq;

    Reassembly(BufferPool pool) {
        this.pool = pool;
    }

    boolean isEmpty() {
        return pieces.isEmpty();
    }

    int bytes() {
        return bytes;
    }

    /**
     * Keeps {@code length} bytes at {@code seq} (beyond rcvNxt, inside the
     * window); the parts already held are not stored twice. A FIN marks the
     * piece that ends where the segment ends.
     *
     * @return false when a limit refused some of it
     */
    boolean add(int seq, ByteBuffer buf, int offset, int length, boolean fin) {
        lastSeq = seq;
        int end = seq + length;
        int i = 0;
        while (i < pieces.size() && !Seq.after(pieces.get(i).end(), seq))
            i++;
        int cursor = seq;
        boolean complete = true;
        while (Seq.before(cursor, end)) {
            if (i < pieces.size() && !Seq.after(pieces.get(i).seq(), cursor)) {
                if (Seq.after(pieces.get(i).end(), cursor))
                    cursor = pieces.get(i).end();
                i++;
                continue;
            }
            int stop = i < pieces.size() && Seq.before(pieces.get(i).seq(), end) ? pieces.get(i).seq() : end;
            int n = Seq.diff(stop, cursor);
            if (pieces.size() >= MAX_PIECES || !pool.reserve(n)) {
                complete = false;
                break;
            }
            byte[] data = new byte[n];
            buf.get(offset + Seq.diff(cursor, seq), data);
            pieces.add(i++, new Piece(cursor, data, false));
            bytes += n;
            cursor = stop;
        }
        if (fin && complete)
            markFin(end);
        return complete;
    }

    private void markFin(int end) {
        for (int k = 0; k < pieces.size(); k++) {
            Piece p = pieces.get(k);
            if (p.end() == end) {
                pieces.set(k, new Piece(p.seq(), p.data(), true));
                return;
            }
        }
        int k = 0;
        while (k < pieces.size() && Seq.before(pieces.get(k).seq(), end))
            k++;
        pieces.add(k, new Piece(end, new byte[0], true));
    }

    /** Removes and returns the first piece if it starts at or before {@code rcvNxt}, else null. */
    Piece pollReady(int rcvNxt) {
        if (pieces.isEmpty() || Seq.after(pieces.getFirst().seq(), rcvNxt))
            return null;
        Piece p = pieces.removeFirst();
        bytes -= p.data().length;
        pool.release(p.data().length);
        return p;
    }

    /**
     * Up to three SACK blocks as [start, end) pairs in {@code out}: the block
     * holding the most recent arrival first (RFC 2018 section 4), then the
     * others in order. Adjacent pieces are merged.
     *
     * @return the number of blocks
     */
    int sackBlocks(int[] out) {
        List<int[]> ranges = new ArrayList<>();
        for (Piece p : pieces) {
            if (!ranges.isEmpty() && ranges.getLast()[1] == p.seq())
                ranges.getLast()[1] = p.end();
            else
                ranges.add(new int[] { p.seq(), p.end() });
        }
        int n = 0;
        for (int[] r : ranges)
            if (!Seq.before(lastSeq, r[0]) && Seq.before(lastSeq, r[1])) {
                out[n * 2] = r[0];
                out[n * 2 + 1] = r[1];
                n++;
                break;
            }
        for (int[] r : ranges) {
            if (n == MAX_SACK_BLOCKS)
                break;
            if (n > 0 && out[0] == r[0])
                continue;
            out[n * 2] = r[0];
            out[n * 2 + 1] = r[1];
            n++;
        }
        return n;
    }

    void clear() {
        pool.release(bytes);
        pieces.clear();
        bytes = 0;
    }
}
