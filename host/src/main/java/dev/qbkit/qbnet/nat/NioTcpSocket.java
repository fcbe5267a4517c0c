// TcpSocket over a non-blocking NIO SocketChannel registered with the board's
// event loop. Interest changes are cached so a busy flow does not re-arm the
// selector on every packet. Listener events come from the loop, never from
// inside a call the flow made (a connect that completes at once is a task),
// and whatever a listener throws ends in its onFailure (the flow resets).
package dev.qbkit.qbnet.nat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import jdk.net.ExtendedSocketOptions;

import dev.qbkit.qbnet.loop.EventLoop;

public final class NioTcpSocket implements TcpSocket, EventLoop.IoHandler {
    private static final Logger log = LoggerFactory.getLogger(NioTcpSocket.class);
    private final EventLoop loop;
    private SocketChannel channel;
    private SelectionKey key;
    private Listener listener;
    private boolean connecting;
    private int interest = -1;

    public NioTcpSocket(EventLoop loop) {
        this.loop = loop;
    }

    /** A socket for a connection accepted on the host (port forwarding). */
    public static NioTcpSocket adopting(EventLoop loop, SocketChannel accepted) {
        NioTcpSocket s = new NioTcpSocket(loop);
        s.channel = accepted;
        return s;
    }

    @Override
    public void adopt(Listener l) {
        this.listener = l;
        try {
            channel.configureBlocking(false);
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            key = loop.register(channel, 0, this);
        } catch (IOException e) {
            later(() -> l.onConnectFailed(e));
        }
    }

    @Override
    public void connect(InetSocketAddress remote, Listener listener) throws IOException {
        this.listener = listener;
        channel = SocketChannel.open(remote.getAddress() instanceof java.net.Inet6Address
                ? java.net.StandardProtocolFamily.INET6 : java.net.StandardProtocolFamily.INET);
        channel.configureBlocking(false);
        // Segments arrive already coalesced by the board's stack; do not add Nagle delay.
        channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        connecting = !channel.connect(remote);
        key = loop.register(channel, connecting ? SelectionKey.OP_CONNECT : 0, this);
        if (!connecting)
            later(this::connectedAtOnce);
    }

    /** A listener event as a loop task of its own; what it throws goes to the listener's onFailure. */
    private void later(Runnable event) {
        loop.execute(() -> {
            try {
                event.run();
            } catch (RuntimeException e) {
                listener.onFailure(e);
            }
        });
    }

    private void connectedAtOnce() {
        if (channel.isOpen())
            listener.onConnected();
    }

    /** onReady threw (the loop has cancelled the key): the flow resets itself, so nothing hangs. */
    @Override
    public boolean contain(Exception cause) {
        if (listener == null)
            return false;
        listener.onFailure(cause instanceof RuntimeException e ? e : new IllegalStateException(cause));
        return true;
    }

    @Override
    public void onReady(SelectionKey k) {
        if (connecting) {
            if (!k.isConnectable())
                return;
            boolean connected;
            try {
                connected = channel.finishConnect();
            } catch (IOException e) {
                connecting = false;
                listener.onConnectFailed(e);
                return;
            }
            if (!connected)
                return; // woken before the handshake completed: OP_CONNECT stays
            connecting = false;
            interest = -1;
            k.interestOps(0);
            listener.onConnected();
            return;
        }
        int ready = k.readyOps();
        if ((ready & SelectionKey.OP_READ) != 0)
            listener.onReadable();
        if ((ready & SelectionKey.OP_WRITE) != 0 && k.isValid())
            listener.onWritable();
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
        return channel.read(dsts, offset, length);
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        return channel.write(srcs, offset, length);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        return channel.write(src);
    }

    @Override
    public void keepAlive(int idleSeconds, int intervalSeconds, int count) {
        if (channel == null || !channel.isOpen())
            return;
        try {
            channel.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
            var supported = channel.supportedOptions();
            if (supported.contains(ExtendedSocketOptions.TCP_KEEPIDLE))
                channel.setOption(ExtendedSocketOptions.TCP_KEEPIDLE, idleSeconds);
            if (supported.contains(ExtendedSocketOptions.TCP_KEEPINTERVAL))
                channel.setOption(ExtendedSocketOptions.TCP_KEEPINTERVAL, intervalSeconds);
            if (supported.contains(ExtendedSocketOptions.TCP_KEEPCOUNT))
                channel.setOption(ExtendedSocketOptions.TCP_KEEPCOUNT, count);
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            log.debug("keepalive on {}: {}", channel, e.toString());
        }
    }

    /** The channel, for tests of what was set on it. */
    SocketChannel channel() {
        return channel;
    }

    @Override
    public void shutdownOutput() throws IOException {
        channel.shutdownOutput();
    }

    @Override
    public void setInterest(boolean read, boolean write) {
        int ops = (read ? SelectionKey.OP_READ : 0) | (write ? SelectionKey.OP_WRITE : 0);
        if (ops == interest || key == null || !key.isValid() || connecting)
            return;
        interest = ops;
        key.interestOps(ops);
    }

    @Override
    public void close() {
        if (key != null)
            key.cancel();
        closeQuietly();
    }

    @Override
    public void abort() {
        if (channel != null && channel.isOpen()) {
            try {
                channel.setOption(StandardSocketOptions.SO_LINGER, 0);
            } catch (IOException | UnsupportedOperationException e) {
                // the reset becomes an orderly close; nothing else to do
            }
        }
        close();
    }

    private void closeQuietly() {
        if (channel == null)
            return;
        try {
            channel.close();
        } catch (IOException e) {
            // closing: nothing left to report to
        }
    }
}
