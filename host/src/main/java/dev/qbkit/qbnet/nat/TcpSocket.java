// The host side of one TCP flow, as the flow sees it: a non-blocking socket
// whose readiness arrives through Listener. NioTcpSocket is the real one;
// tests use an in-memory one.
package dev.qbkit.qbnet.nat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

public interface TcpSocket extends ByteQueue.Source, ByteQueue.Sink {
    /** Readiness events, delivered on the board's loop thread. */
    interface Listener {
        void onConnected();

        void onConnectFailed(IOException cause);

        void onReadable();

        void onWritable();

        /** One of the calls above threw: the flow resets itself and the board's loop goes on. */
        void onFailure(RuntimeException cause);
    }

    void connect(InetSocketAddress remote, Listener listener) throws IOException;

    /** Starts events for a socket that is already connected (a forwarded host connection). */
    void adopt(Listener listener);

    /** Writes what the socket takes now; never blocks. */
    int write(ByteBuffer src) throws IOException;

    void shutdownOutput() throws IOException;

    /**
     * Turns on TCP keepalive: probe the peer after {@code idleSeconds}
     * without traffic, every {@code intervalSeconds}, and give up after
     * {@code count} unanswered probes (a read then fails). Best effort: a
     * platform without the per-socket settings keeps its defaults.
     */
    void keepAlive(int idleSeconds, int intervalSeconds, int count);

    void setInterest(boolean read, boolean write);

    /** Closes gracefully: unsent data is still delivered, then FIN. */
    void close();

    /** Closes with a reset (SO_LINGER 0). */
    void abort();
}
