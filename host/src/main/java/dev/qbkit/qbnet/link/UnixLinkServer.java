// Listens on a Unix stream socket for board daemons (`--link unix:PATH`);
// each accepted connection is one board. Refuses to steal the path from a
// running qbnet, and removes a stale socket file left by a crashed one.
package dev.qbkit.qbnet.link;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.qbkit.qbnet.loop.EventLoop;

public final class UnixLinkServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(UnixLinkServer.class);

    private final Path path;
    private final EventLoop loop;
    private final Consumer<SocketChannel> onAccept;
    private ServerSocketChannel server;

    public UnixLinkServer(Path path, EventLoop loop, Consumer<SocketChannel> onAccept) {
        this.path = path;
        this.loop = loop;
        this.onAccept = onAccept;
    }

    /** Binds the socket; throws with a message that names the fix. */
    public void start() throws IOException {
        Path parent = path.toAbsolutePath().getParent();
        if (parent != null && !Files.isDirectory(parent))
            throw new IOException("directory " + parent + " does not exist: create it or choose another --link unix:PATH");
        if (Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS))
            removeStale();
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        server.configureBlocking(false);
        loop.execute(() -> {
            try {
                loop.register(server, SelectionKey.OP_ACCEPT, k -> acceptAll());
            } catch (IOException e) {
                log.error("cannot watch {}: {}", path, e.toString());
            }
        });
    }

    private void removeStale() throws IOException {
        try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            probe.connect(UnixDomainSocketAddress.of(path));
            throw new IOException("another qbnet is already serving " + path + ": stop it, or choose another path");
        } catch (java.net.SocketException e) {
            log.info("removing stale socket {}", path);
            Files.delete(path);
        }
    }

    private void acceptAll() throws IOException {
        SocketChannel ch;
        while ((ch = server.accept()) != null)
            onAccept.accept(ch);
    }

    public Path path() {
        return path;
    }

    @Override
    public void close() {
        try {
            if (server != null)
                server.close();
            Files.deleteIfExists(path);
        } catch (IOException e) {
            log.debug("closing {}: {}", path, e.toString());
        }
    }
}
