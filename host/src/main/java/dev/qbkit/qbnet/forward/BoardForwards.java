// The port forwards of one attached board: host sockets bound on the board's
// loop whose connections (TCP) or datagrams (UDP) the NAT carries into the
// board, seen there as coming from the gateway address. Released when the
// board goes, so another board can take the same host ports.
package dev.qbkit.qbnet.forward;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.NetworkChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.qbkit.qbnet.loop.EventLoop;
import dev.qbkit.qbnet.nat.LinkGate;
import dev.qbkit.qbnet.nat.Nat;
import dev.qbkit.qbnet.nat.NioTcpSocket;

public final class BoardForwards {
    private static final Logger log = LoggerFactory.getLogger(BoardForwards.class);
    private static final int MAX_DATAGRAMS_PER_WAKEUP = 64;

    private final String boardName;
    private final EventLoop loop;
    private final Nat nat;
    private final byte[] gateway;
    private final byte[] board;
    private final Map<ForwardSpec, NetworkChannel> bound = new LinkedHashMap<>();
    private final ByteBuffer datagram = ByteBuffer.allocateDirect(65536);

    public BoardForwards(String boardName, EventLoop loop, Nat nat) {
        this.boardName = boardName;
        this.loop = loop;
        this.nat = nat;
        this.gateway = nat.config().gateway4().getAddress();
        this.board = nat.config().boardAddress4().getAddress();
    }

    /** Binds the host side of {@code spec}; an IOException says why not (port taken, no permission). */
    public void add(ForwardSpec spec) throws IOException {
        if (bound.containsKey(spec))
            return;
        NetworkChannel channel = spec.udp() ? bindUdp(spec) : bindTcp(spec);
        bound.put(spec, channel);
        log.info("{}: forwarding {} {} to the board's port {}", boardName, spec.udp() ? "udp" : "tcp",
                spec.hostEndpoint(), spec.boardPort());
    }

    private ServerSocketChannel bindTcp(ForwardSpec spec) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open();
        try {
            server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            server.bind(spec.hostEndpoint(), 128);
            server.configureBlocking(false);
            loop.register(server, SelectionKey.OP_ACCEPT, k -> accept(server, spec));
        } catch (IOException e) {
            server.close();
            throw new IOException("cannot listen on tcp " + spec.hostEndpoint() + ": " + e.getMessage(), e);
        }
        return server;
    }

    private void accept(ServerSocketChannel server, ForwardSpec spec) throws IOException {
        SocketChannel client;
        while ((client = server.accept()) != null) {
            InetSocketAddress peer = (InetSocketAddress) client.getRemoteAddress();
            if (nat.tcp().forward(NioTcpSocket.adopting(loop, client), peer, gateway, board, spec.boardPort()) == null) {
                log.warn("{}: refusing a forwarded connection from {}: flow limit reached", boardName, peer);
                client.close();
            }
        }
    }

    private DatagramChannel bindUdp(ForwardSpec spec) throws IOException {
        DatagramChannel channel = DatagramChannel.open(spec.bind().getAddress().length == 16
                ? java.net.StandardProtocolFamily.INET6 : java.net.StandardProtocolFamily.INET);
        try {
            channel.bind(spec.hostEndpoint());
            channel.configureBlocking(false);
            LinkGate gate = new LinkGate(nat);
            gate.setKey(loop.register(channel, SelectionKey.OP_READ, k -> receive(channel, spec, gate)));
        } catch (IOException e) {
            channel.close();
            throw new IOException("cannot bind udp " + spec.hostEndpoint() + ": " + e.getMessage(), e);
        }
        return channel;
    }

    private void receive(DatagramChannel channel, ForwardSpec spec, LinkGate gate) throws IOException {
        for (int i = 0; i < MAX_DATAGRAMS_PER_WAKEUP && gate.mayRead(); i++) {
            datagram.clear();
            InetSocketAddress client = (InetSocketAddress) channel.receive(datagram);
            if (client == null)
                return;
            datagram.flip();
            nat.udp().forwardFromHost(channel, client, gateway, board, spec.boardPort(), datagram);
        }
    }

    public boolean remove(ForwardSpec spec) {
        NetworkChannel channel = bound.remove(spec);
        if (channel == null)
            return false;
        closeQuietly(channel);
        log.info("{}: stopped forwarding {}", boardName, spec);
        return true;
    }

    public List<ForwardSpec> active() {
        return new ArrayList<>(bound.keySet());
    }

    public void close() {
        for (NetworkChannel c : bound.values())
            closeQuietly(c);
        bound.clear();
    }

    private static void closeQuietly(NetworkChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            // closing: nothing to report to
        }
    }
}
