// The link over a byte stream (a Unix socket): bundles back to back, each
// read by its header's length. A bad header means the stream is out of step,
// so the connection is closed and the board reconnects. The connection can
// move to another board loop mid-stream (moveTo), unread bytes and all.
package dev.qbkit.qbnet.link;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;

import dev.qbkit.qbnet.loop.EventLoop;

public final class StreamLink implements Link, EventLoop.IoHandler {
    private static final int MAX_READS_PER_WAKEUP = 8;
    private static final int MAX_IOV = 16;

    private final SocketChannel channel;
    private final EventLoop loop;
    private final String description;
    private final int maxReceive;
    private final int peerMaxBundle;
    private final ByteBuffer rx;
    private final ArrayDeque<ByteBuffer> txQueue;
    private final long softLimit;
    private final long hardLimit;
    private long queuedBytes;
    private final Writability writability;
    private SelectionKey key;
    private Handler handler;
    private boolean closed;

    public StreamLink(SocketChannel channel, EventLoop loop, String description, int maxReceive, int peerMaxBundle) {
        this(channel, loop, description, maxReceive, peerMaxBundle,
                ByteBuffer.allocateDirect(Math.max(2 * maxReceive, 256 * 1024)), new ArrayDeque<>(), 0);
    }

    /** @param rx the receive buffer in write mode: bytes read and not yet delivered at [0, position) */
    private StreamLink(SocketChannel channel, EventLoop loop, String description, int maxReceive, int peerMaxBundle,
            ByteBuffer rx, ArrayDeque<ByteBuffer> txQueue, long queuedBytes) {
        this.channel = channel;
        this.loop = loop;
        this.description = description;
        this.maxReceive = maxReceive;
        this.peerMaxBundle = peerMaxBundle;
        this.rx = rx;
        this.txQueue = txQueue;
        this.queuedBytes = queuedBytes;
        this.softLimit = 4L * Math.max(peerMaxBundle, Bundles.INITIAL_MAX);
        this.hardLimit = 64L * Bundles.ABSOLUTE_MAX;
        this.writability = new Writability(loop, () -> this.queuedBytes > softLimit, () -> closed);
    }

    @Override
    public void start(Handler h) throws IOException {
        this.handler = h;
        writability.start(h);
        channel.configureBlocking(false);
        key = loop.register(channel, SelectionKey.OP_READ | (txQueue.isEmpty() ? 0 : SelectionKey.OP_WRITE), this);
        if (rx.position() > 0)
            loop.execute(this::deliverBuffered); // bytes read before the move: a loop task, as a read would be
    }

    private void deliverBuffered() {
        if (!closed)
            deliverComplete();
    }

    @Override
    public Link moveTo(EventLoop other) {
        if (closed)
            return null;
        closed = true; // delivers nothing more; the channel stays open for the new link
        if (key != null)
            key.cancel();
        StreamLink moved = new StreamLink(channel, other, description, maxReceive, peerMaxBundle, rx,
                new ArrayDeque<>(txQueue), queuedBytes);
        txQueue.clear();
        queuedBytes = 0;
        return moved;
    }

    @Override
    public int maxReceiveBundle() {
        return maxReceive;
    }

    @Override
    public String description() {
        return description;
    }

    @Override
    public void onReady(SelectionKey k) {
        if (closed)
            return;
        if (k.isValid() && k.isWritable())
            writeQueued();
        if (!closed && k.isValid() && k.isReadable())
            readAvailable();
    }

    private void readAvailable() {
        for (int i = 0; i < MAX_READS_PER_WAKEUP && !closed; i++) {
            int n;
            try {
                n = channel.read(rx);
            } catch (IOException e) {
                close("read failed: " + e.getMessage());
                return;
            }
            if (n < 0) {
                close("the board closed the connection");
                return;
            }
            deliverComplete();
            if (n == 0 || rx.hasRemaining())
                return;
        }
    }

    /** Hands every complete bundle in rx to the handler and compacts. */
    private void deliverComplete() {
        rx.flip();
        while (!closed && rx.remaining() >= Bundles.HEADER_SIZE) {
            int at = rx.position();
            BundleDrop bad = Bundles.checkHeader(rx, at, maxReceive);
            if (bad != null) {
                handler.onBadBundle(bad);
                close("bundle header " + bad.wireName() + ": the stream is out of step");
                return;
            }
            int length = (int) Bundles.declaredLength(rx, at);
            if (rx.remaining() < length)
                break;
            handler.onBundle(rx, at, length);
            rx.position(at + length);
        }
        rx.compact();
    }

    @Override
    public boolean send(ByteBuffer bundle) {
        return enqueue(bundle, hardLimit);
    }

    @Override
    public boolean sendPriority(ByteBuffer bundle) {
        return enqueue(bundle, hardLimit + CONTROL_RESERVE);
    }

    private boolean enqueue(ByteBuffer bundle, long limit) {
        if (closed || queuedBytes + bundle.remaining() > limit)
            return false;
        txQueue.add(bundle);
        queuedBytes += bundle.remaining();
        if (txQueue.size() == 1)
            writeQueued();
        return true;
    }

    private void writeQueued() {
        while (!txQueue.isEmpty()) {
            ByteBuffer[] iov = new ByteBuffer[Math.min(MAX_IOV, txQueue.size())];
            int n = 0;
            for (ByteBuffer b : txQueue) {
                if (n == iov.length)
                    break;
                iov[n++] = b;
            }
            long written;
            try {
                written = channel.write(iov, 0, n);
            } catch (IOException e) {
                close("write failed: " + e.getMessage());
                return;
            }
            queuedBytes -= written;
            while (!txQueue.isEmpty() && !txQueue.peek().hasRemaining())
                handler.onSent(txQueue.poll());
            if (!txQueue.isEmpty() && txQueue.peek().position() > 0 || written == 0)
                break; // the socket is full; OP_WRITE brings us back
        }
        if (closed)
            return;
        int ops = SelectionKey.OP_READ | (txQueue.isEmpty() ? 0 : SelectionKey.OP_WRITE);
        if (key.isValid() && key.interestOps() != ops)
            key.interestOps(ops);
        writability.queueShrank();
    }

    @Override
    public boolean congested() {
        return writability.congested();
    }

    @Override
    public void close(String reason) {
        if (closed)
            return;
        closed = true;
        if (key != null)
            key.cancel();
        try {
            channel.close();
        } catch (IOException e) {
            // closing: nothing left to report to
        }
        txQueue.clear();
        queuedBytes = 0;
        handler.onClosed(reason);
    }
}
