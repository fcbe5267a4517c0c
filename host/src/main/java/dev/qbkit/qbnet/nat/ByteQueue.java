// A FIFO of bytes held in pooled chunks: the send buffer of a flow (kept until
// the board acknowledges it) or data waiting for a slow host socket. Chunks
// are taken as data arrives and returned as soon as it is consumed.
package dev.qbkit.qbnet.nat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;

public final class ByteQueue {
    /** Reads into a run of buffers, like ScatteringByteChannel.read. */
    @FunctionalInterface
    public interface Source {
        long read(ByteBuffer[] dsts, int offset, int length) throws IOException;
    }

    /** Writes from a run of buffers, like GatheringByteChannel.write. */
    @FunctionalInterface
    public interface Sink {
        long write(ByteBuffer[] srcs, int offset, int length) throws IOException;
    }

    private static final int MAX_IOV = 16;

    private final BufferPool pool;
    // Each chunk is in "read mode": [position, limit) holds queued bytes;
    // the tail chunk is written at [limit, capacity).
    private ArrayDeque<ByteBuffer> chunks;
    private int size;

    public ByteQueue(BufferPool pool) {
        this.pool = pool;
    }

    public int size() {
        return size;
    }

    public boolean isEmpty() {
        return size == 0;
    }

    /**
     * Reads at most {@code max} bytes from {@code source}.
     *
     * @return bytes read, 0 when no chunk could be had, or -1 at end of stream
     */
    public long readFrom(Source source, int max) throws IOException {
        if (max <= 0)
            return 0;
        ByteBuffer[] targets = new ByteBuffer[MAX_IOV];
        ByteBuffer[] views = new ByteBuffer[MAX_IOV];
        int n = 0;
        int room = 0;
        ByteBuffer tail = chunks == null ? null : chunks.peekLast();
        boolean reuseTail = tail != null && tail.limit() < tail.capacity();
        if (reuseTail) {
            targets[0] = tail;
            views[0] = writeView(tail, Math.min(max, tail.capacity() - tail.limit()));
            room = views[0].remaining();
            n = 1;
        }
        while (room < max && n < MAX_IOV) {
            ByteBuffer chunk = pool.take();
            if (chunk == null)
                break;
            chunk.limit(0);
            chunks().add(chunk);
            targets[n] = chunk;
            views[n] = writeView(chunk, Math.min(max - room, chunk.capacity()));
            room += views[n].remaining();
            n++;
        }
        if (n == 0)
            return 0;
        long read;
        try {
            read = source.read(views, 0, n);
        } finally {
            for (int i = 0; i < n; i++)
                targets[i].limit(views[i].position());
            // New chunks that received nothing go straight back.
            for (int i = n - 1; i >= (reuseTail ? 1 : 0) && targets[i].limit() == 0; i--) {
                chunks.pollLast();
                pool.give(targets[i]);
            }
            if (chunks.isEmpty())
                chunks = null;
        }
        if (read > 0)
            size += (int) read;
        return read;
    }

    private static ByteBuffer writeView(ByteBuffer chunk, int max) {
        ByteBuffer view = chunk.duplicate();
        view.limit(chunk.limit() + max).position(chunk.limit());
        return view;
    }

    /**
     * Appends {@code length} bytes from {@code src} at absolute index
     * {@code offset}. Returns how many fitted under the pool's cap.
     */
    public int append(ByteBuffer src, int offset, int length) {
        int done = 0;
        while (done < length) {
            ByteBuffer tail = chunks == null ? null : chunks.peekLast();
            if (tail == null || tail.limit() == tail.capacity()) {
                tail = pool.take();
                if (tail == null)
                    break;
                tail.limit(0);
                chunks().add(tail);
            }
            int n = Math.min(length - done, tail.capacity() - tail.limit());
            int at = tail.limit();
            tail.limit(at + n);
            tail.put(at, src, offset + done, n);
            done += n;
        }
        size += done;
        return done;
    }

    /** Copies {@code length} bytes starting {@code from} bytes into the queue to {@code dst[dstIndex]}. */
    public void copyTo(int from, int length, ByteBuffer dst, int dstIndex) {
        if (from < 0 || length < 0 || from + length > size)
            throw new IndexOutOfBoundsException(from + "+" + length + " > " + size);
        for (ByteBuffer c : chunks) {
            if (length == 0)
                return;
            int held = c.remaining();
            if (from >= held) {
                from -= held;
                continue;
            }
            int n = Math.min(length, held - from);
            dst.put(dstIndex, c, c.position() + from, n);
            dstIndex += n;
            length -= n;
            from = 0;
        }
    }

    /** Drops {@code n} bytes from the front, returning emptied chunks to the pool. */
    public void discard(int n) {
        if (n > size)
            throw new IllegalArgumentException(n + " > " + size);
        size -= n;
        while (n > 0) {
            ByteBuffer head = chunks.peekFirst();
            int take = Math.min(n, head.remaining());
            head.position(head.position() + take);
            n -= take;
            if (!head.hasRemaining() && (head.limit() == head.capacity() || size == 0)) {
                chunks.pollFirst();
                pool.give(head);
            }
        }
        if (size == 0)
            release();
    }

    /** Writes from the front to {@code sink} and discards what was written. */
    public long writeTo(Sink sink) throws IOException {
        if (size == 0)
            return 0;
        ByteBuffer[] iov = new ByteBuffer[Math.min(MAX_IOV, chunks.size())];
        int n = 0;
        for (ByteBuffer c : chunks) {
            if (n == iov.length)
                break;
            if (c.hasRemaining())
                iov[n++] = c.duplicate();
        }
        long written = sink.write(iov, 0, n);
        if (written > 0)
            discard((int) written);
        return written;
    }

    /** Returns every chunk to the pool. */
    public void release() {
        if (chunks == null)
            return;
        for (ByteBuffer c : chunks)
            pool.give(c);
        chunks = null;
        size = 0;
    }

    private ArrayDeque<ByteBuffer> chunks() {
        if (chunks == null)
            chunks = new ArrayDeque<>(4);
        return chunks;
    }
}
