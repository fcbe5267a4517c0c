// The real host socket against loopback servers this test starts, driven by
// hand through EventLoop.runOnce: a connect is reported only once it has
// completed, every listener failure ends in onFailure (the flow resets, the
// board's session goes on), and keepalive settings reach the socket.
package dev.qbkit.qbnet.nat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.qbkit.qbnet.loop.EventLoop;
import jdk.net.ExtendedSocketOptions;

class NioTcpSocketTest {
    final List<String> events = new ArrayList<>();
    final List<Throwable> loopFailures = new ArrayList<>();
    final List<AutoCloseable> closeLater = new ArrayList<>();
    EventLoop loop;

    /** Records events; {@code throwOn} names the event that throws. */
    TcpSocket.Listener listener(String throwOn) {
        return new TcpSocket.Listener() {
            void event(String name) {
                events.add(name);
                if (name.equals(throwOn))
                    throw new IllegalStateException("a bug in " + name);
            }

            @Override
            public void onConnected() {
                event("connected");
            }

            @Override
            public void onConnectFailed(IOException cause) {
                event("connectFailed");
            }

            @Override
            public void onReadable() {
                event("readable");
            }

            @Override
            public void onWritable() {
                event("writable");
            }

            @Override
            public void onFailure(RuntimeException cause) {
                events.add("failure: " + cause.getMessage());
            }
        };
    }

    EventLoop loop() throws IOException {
        loop = new EventLoop("test-nio-socket");
        loop.setFailureHandler(loopFailures::add);
        return loop;
    }

    ServerSocketChannel server(int backlog) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), backlog);
        closeLater.add(server);
        return server;
    }

    /** Runs loop rounds until {@code event} was recorded; at most 200 rounds of 5 ms. */
    void runUntil(String event) throws Exception {
        for (int i = 0; i < 200 && !events.contains(event); i++) {
            loop.runOnce();
            if (!events.contains(event))
                Thread.sleep(5);
        }
        assertTrue(events.contains(event), "no " + event + " after 200 rounds: " + events);
    }

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : closeLater)
            c.close();
    }

    @Test
    void aConnectStillUnderWayIsNotReportedAsConnected() throws Exception {
        ServerSocketChannel server = server(1);
        InetSocketAddress address = (InetSocketAddress) server.getLocalAddress();
        for (int i = 0; i < 4; i++) { // fill the accept queue: later SYNs are dropped, connects stay under way
            SocketChannel filler = SocketChannel.open();
            filler.configureBlocking(false);
            filler.connect(address);
            closeLater.add(filler);
        }
        NioTcpSocket socket = new NioTcpSocket(loop());
        socket.connect(address, listener(""));
        closeLater.add(socket::abort);
        assumeTrue(!socket.channel().finishConnect(), "the accept queue did not hold the connect back");

        socket.onReady(connectableKey(socket.channel())); // a wakeup before the handshake is done
        assertFalse(events.contains("connected"), "finishConnect() said false: still connecting, " + events);
        assertTrue(socket.channel().isConnectionPending());
    }

    @Test
    void aListenerThatThrowsOnReadableEndsInOnFailureAndTheLoopGoesOn() throws Exception {
        ServerSocketChannel server = server(8);
        NioTcpSocket socket = new NioTcpSocket(loop());
        socket.connect((InetSocketAddress) server.getLocalAddress(), listener("readable"));
        closeLater.add(socket::abort);
        runUntil("connected");
        socket.setInterest(true, false);
        SocketChannel peer = server.accept();
        closeLater.add(peer);
        peer.write(ByteBuffer.wrap(new byte[] { 42 }));
        runUntil("failure: a bug in readable");
        assertTrue(loopFailures.isEmpty(), "contained by the flow, not the board's session: " + loopFailures);
    }

    @Test
    void aListenerThatThrowsInALoopTaskEndsInOnFailureAndTheLoopGoesOn() throws Exception {
        SocketChannel closed = SocketChannel.open();
        closed.close(); // adopting it fails: the failure is reported from a loop task
        NioTcpSocket socket = NioTcpSocket.adopting(loop(), closed);
        socket.adopt(listener("connectFailed"));
        runUntil("failure: a bug in connectFailed");
        assertTrue(loopFailures.isEmpty(), "contained by the flow, not the board's session: " + loopFailures);
    }

    @Test
    void keepaliveSettingsReachTheSocket() throws Exception {
        ServerSocketChannel server = server(8);
        NioTcpSocket socket = new NioTcpSocket(loop());
        socket.connect((InetSocketAddress) server.getLocalAddress(), listener(""));
        closeLater.add(socket::abort);
        runUntil("connected");
        socket.keepAlive(45, 30, 5);
        SocketChannel channel = socket.channel();
        assertTrue(channel.getOption(StandardSocketOptions.SO_KEEPALIVE));
        assumeTrue(channel.supportedOptions().contains(ExtendedSocketOptions.TCP_KEEPIDLE), "no TCP_KEEPIDLE here");
        assertEquals(45, channel.getOption(ExtendedSocketOptions.TCP_KEEPIDLE));
        assertEquals(30, channel.getOption(ExtendedSocketOptions.TCP_KEEPINTERVAL));
        assertEquals(5, channel.getOption(ExtendedSocketOptions.TCP_KEEPCOUNT));
    }

    /** A selection key that reports OP_CONNECT ready, as a selector's spurious wakeup would. */
    static SelectionKey connectableKey(SelectableChannel channel) {
        return new SelectionKey() {
            int interest = OP_CONNECT;

            @Override
            public SelectableChannel channel() {
                return channel;
            }

            @Override
            public Selector selector() {
                return null;
            }

            @Override
            public boolean isValid() {
                return true;
            }

            @Override
            public void cancel() {
            }

            @Override
            public int interestOps() {
                return interest;
            }

            @Override
            public SelectionKey interestOps(int ops) {
                interest = ops;
                return this;
            }

            @Override
            public int readyOps() {
                return OP_CONNECT;
            }
        };
    }
}
