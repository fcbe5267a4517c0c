// An in-memory host socket for packet-in/packet-out TCP tests: the test
// decides when the connect completes, what the remote sends, and how much
// the socket accepts.
package dev.qbkit.qbnet.nat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

final class FakeSocket implements TcpSocket {
    InetSocketAddress connectedTo;
    Listener listener;
    final ByteArrayOutputStream written = new ByteArrayOutputStream();
    ByteBuffer incoming = ByteBuffer.allocate(0);
    boolean remoteEof;
    int writeRoom = Integer.MAX_VALUE;
    IOException failWrites;
    /** When set, writes throw this once {@link #writesBeforeFailure} more writes have gone through. */
    IOException failLaterWrites;
    int writesBeforeFailure;
    /** A bug's stand-in: writes throw this unchecked exception. */
    RuntimeException crashWrites;
    boolean outputShut;
    boolean closed;
    boolean aborted;
    boolean wantRead;
    boolean wantWrite;
    /** Reads throw this (the peer found dead: a keepalive timeout, a reset). */
    IOException failReads;
    /** The last keepAlive(idle, interval, count) the flow asked for, or null. */
    int[] keepAlive;
    int keepAliveCalls;

    @Override
    public void connect(InetSocketAddress remote, Listener l) {
        connectedTo = remote;
        listener = l;
    }

    @Override
    public void adopt(Listener l) {
        listener = l;
    }

    /** The remote sends {@code data}; the flow is told the socket is readable. */
    void remoteSends(byte[] data) {
        ByteBuffer grown = ByteBuffer.allocate(incoming.remaining() + data.length);
        grown.put(incoming).put(data).flip();
        incoming = grown;
        if (wantRead)
            listener.onReadable();
    }

    void remoteCloses() {
        remoteEof = true;
        if (wantRead)
            listener.onReadable();
    }

    byte[] takeWritten() {
        byte[] b = written.toByteArray();
        written.reset();
        return b;
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
        if (failReads != null)
            throw failReads;
        if (!incoming.hasRemaining())
            return remoteEof ? -1 : 0;
        long n = 0;
        for (int i = offset; i < offset + length && incoming.hasRemaining(); i++) {
            int take = Math.min(dsts[i].remaining(), incoming.remaining());
            ByteBuffer slice = incoming.slice(incoming.position(), take);
            dsts[i].put(slice);
            incoming.position(incoming.position() + take);
            n += take;
        }
        return n;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        if (failWrites != null)
            throw failWrites;
        if (failLaterWrites != null && writesBeforeFailure-- <= 0)
            throw failLaterWrites;
        if (crashWrites != null)
            throw crashWrites;
        int n = Math.min(src.remaining(), writeRoom);
        byte[] b = new byte[n];
        src.get(b);
        written.writeBytes(b);
        if (writeRoom != Integer.MAX_VALUE)
            writeRoom -= n;
        return n;
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        long n = 0;
        for (int i = offset; i < offset + length; i++) {
            int w = write(srcs[i]);
            n += w;
            if (srcs[i].hasRemaining())
                break;
        }
        return n;
    }

    @Override
    public void keepAlive(int idleSeconds, int intervalSeconds, int count) {
        keepAlive = new int[] { idleSeconds, intervalSeconds, count };
        keepAliveCalls++;
    }

    @Override
    public void shutdownOutput() {
        outputShut = true;
    }

    @Override
    public void setInterest(boolean read, boolean write) {
        wantRead = read;
        wantWrite = write;
    }

    @Override
    public void close() {
        closed = true;
    }

    @Override
    public void abort() {
        aborted = true;
        closed = true;
    }
}
