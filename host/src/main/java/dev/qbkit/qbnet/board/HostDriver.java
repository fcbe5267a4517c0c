// The running host driver: accepts boards from the transports (Unix socket,
// USB) and gives each its own event loop thread, session and NAT; stops them all on shutdown.
package dev.qbkit.qbnet.board;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.Resolver;

import dev.qbkit.qbnet.link.Link;
import dev.qbkit.qbnet.link.StreamLink;
import dev.qbkit.qbnet.link.UnixLinkServer;
import dev.qbkit.qbnet.loop.EventLoop;
import dev.qbkit.qbnet.nat.DnsProxy;
import dev.qbkit.qbnet.nat.NatConfig;
import dev.qbkit.qbnet.usb.UsbBoards;
import dev.qbkit.qbnet.usb.UsbContext;
import dev.qbkit.qbnet.usb.UsbException;
import dev.qbkit.qbnet.usb.UsbId;

public final class HostDriver implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HostDriver.class);
    public static final int MAX_RECEIVE_BUNDLE = 262144;

    /** One attached board and the loop thread it runs on. */
    public record Board(int id, EventLoop loop, BoardSession session) {
    }

    private final NatConfig natConfig;
    private final List<InetSocketAddress> dnsUpstreams;
    private final Resolver resolver;
    private final Map<Integer, Board> boards = new ConcurrentHashMap<>();
    private final AtomicInteger nextId = new AtomicInteger(1);
    private EventLoop acceptLoop;
    private UnixLinkServer unixServer;
    private UsbBoards usbBoards;

    public HostDriver(NatConfig natConfig, List<InetSocketAddress> configuredUpstreams) {
        this.natConfig = natConfig;
        this.dnsUpstreams = DnsProxy.upstreams(configuredUpstreams);
        this.resolver = DnsProxy.resolverFor(dnsUpstreams);
        if (dnsUpstreams.isEmpty())
            log.warn("no DNS servers in the host's resolver configuration: the board's DNS queries will fail "
                    + "(configure DNS on this host, or pass --dns-upstream)");
        else
            log.info("DNS for boards goes to {}", dnsUpstreams);
    }

    public void listenUnix(Path path) throws IOException {
        acceptLoop = new EventLoop("link-accept");
        acceptLoop.start();
        unixServer = new UnixLinkServer(path, acceptLoop, ch -> attachStream(ch, "unix:" + path));
        unixServer.start();
        log.info("waiting for boards on unix:{}", path);
    }

    /**
     * Serves qbnet boards on USB whose VID:PID is in {@code ids}: attached now
     * or later, several at once, each again after a replug.
     *
     * @param libusbLogLevel libusb's own stderr logging, 0 (none) to 4 (debug)
     */
    public void listenUsb(List<UsbId> ids, int libusbLogLevel) throws UsbException {
        UsbContext context = UsbContext.open(libusbLogLevel);
        usbBoards = new UsbBoards(context, ids, MAX_RECEIVE_BUNDLE, this::attach);
        usbBoards.start();
    }

    private void attachStream(SocketChannel channel, String description) {
        if (!attach(description, loop -> new StreamLink(channel, loop, description, MAX_RECEIVE_BUNDLE,
                MAX_RECEIVE_BUNDLE)))
            closeQuietly(channel);
    }

    /**
     * Starts a board: a new loop thread, where {@code linkFactory} makes the
     * link and a session starts on it. False when no loop could be made (the
     * factory is then never called).
     */
    private boolean attach(String description, Function<EventLoop, Link> linkFactory) {
        int id = nextId.getAndIncrement();
        EventLoop loop;
        try {
            loop = new EventLoop("board-" + id);
        } catch (IOException e) {
            log.error("cannot start a loop for a new board ({}): {}", description, e.toString());
            return false;
        }
        loop.start();
        loop.execute(() -> {
            Link link = linkFactory.apply(loop);
            BoardSession session = new BoardSession("board " + id, link, loop, natConfig, resolver, dnsUpstreams,
                    () -> {
                        boards.remove(id);
                        loop.shutdown();
                    });
            boards.put(id, new Board(id, loop, session));
            try {
                session.start();
            } catch (IOException e) {
                log.error("board {}: cannot start the link: {}", id, e.toString());
                session.close("start failed");
            }
        });
        return true;
    }

    private static void closeQuietly(SocketChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            // nothing to report to
        }
    }

    public Map<Integer, Board> boards() {
        return boards;
    }

    @Override
    public void close() {
        if (unixServer != null)
            unixServer.close();
        if (usbBoards != null)
            usbBoards.stopScanning();
        for (Board b : boards.values()) {
            b.loop().execute(() -> b.session().close("qbnet is stopping"));
            try {
                b.loop().join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (usbBoards != null)
            usbBoards.close();
        if (acceptLoop != null)
            acceptLoop.shutdown();
    }
}
