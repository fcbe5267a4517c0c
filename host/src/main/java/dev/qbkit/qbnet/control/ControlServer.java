// The control socket of a running `qbnet run` (a Unix socket, owner-only):
// answers status and forward requests from `qbnet status` and
// `qbnet forward`. One short exchange per connection, each on its own
// short-lived platform thread (DESIGN.md: why not a virtual one). Where the OS
// cannot make a Unix socket at all, start() says so with Unavailable.
package dev.qbkit.qbnet.control;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.function.Function;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.gson.Gson;
import com.google.gson.JsonParseException;

public final class ControlServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ControlServer.class);
    static final int MAX_REQUEST = 64 * 1024;
    static final Gson GSON = new Gson();

    /** Makes the listening socket; tests replace it to simulate a system without AF_UNIX. */
    @FunctionalInterface
    public interface Opener {
        ServerSocketChannel open() throws IOException;
    }

    public static final Opener UNIX = () -> ServerSocketChannel.open(StandardProtocolFamily.UNIX);

    /** This system cannot make a Unix domain socket at all: no path or flag would help. */
    public static final class Unavailable extends IOException {
        Unavailable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final Path path;
    private final Function<ControlRequest, ControlRequest.Reply> handler;
    private final Opener opener;
    private ServerSocketChannel server;
    private Thread acceptor;

    public ControlServer(Path path, Function<ControlRequest, ControlRequest.Reply> handler) {
        this(path, handler, UNIX);
    }

    public ControlServer(Path path, Function<ControlRequest, ControlRequest.Reply> handler, Opener opener) {
        this.path = path;
        this.handler = handler;
        this.opener = opener;
    }

    public void start() throws IOException {
        // First the socket itself: without AF_UNIX (Windows before 10 1803, a sandbox that
        // forbids it) nothing below could work, and the client probe would throw.
        try {
            server = opener.open();
        } catch (UnsupportedOperationException | IOException e) {
            throw new Unavailable("this system cannot make a Unix domain socket (" + e.getMessage() + ")", e);
        }
        try {
            Path dir = path.toAbsolutePath().getParent();
            if (dir != null)
                Files.createDirectories(dir);
            if (Files.exists(path)) {
                if (ControlClient.isServing(path))
                    throw new IOException("another qbnet is running with control socket " + path
                            + ": stop it, or give this one --control PATH");
                Files.delete(path);
            }
            server.bind(UnixDomainSocketAddress.of(path));
        } catch (IOException e) {
            server.close();
            if (!(e instanceof java.nio.file.FileSystemException fse))
                throw e;
            rethrowNamingTheFix(fse);
        }
        try {
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException e) {
            // Windows: the socket file takes the directory's ACL
        }
        acceptor = Thread.ofPlatform().daemon().name("control").start(this::acceptLoop);
        log.debug("control socket {}", path);
    }

    private void rethrowNamingTheFix(java.nio.file.FileSystemException e) throws IOException {
        // Its message is often the bare path ("/nonexistent"): say what failed and what to do.
        String why = switch (e) {
            case java.nio.file.AccessDeniedException a -> "permission denied";
            case java.nio.file.FileAlreadyExistsException a -> "a file is in the way";
            case java.nio.file.NotDirectoryException a -> "not a directory";
            case java.nio.file.NoSuchFileException a -> "no such directory";
            default -> e.getReason() != null ? e.getReason() : e.getClass().getSimpleName();
        };
        throw new IOException("cannot create the control socket " + path + ": " + why
                + (e.getFile() != null && !e.getFile().equals(path.toString()) ? " (" + e.getFile() + ")" : "")
                + ": give a writable path with --control PATH or QBNET_CONTROL", e);
    }

    private void acceptLoop() {
        while (server.isOpen()) {
            try {
                SocketChannel client = server.accept();
                Thread.ofPlatform().daemon().name("control-client").start(() -> serve(client));
            } catch (IOException e) {
                if (server.isOpen())
                    log.warn("control socket: {}", e.toString());
                return;
            }
        }
    }

    private void serve(SocketChannel client) {
        try (client) {
            String line = readLine(client);
            ControlRequest.Reply reply;
            try {
                ControlRequest request = GSON.fromJson(line, ControlRequest.class);
                reply = request == null || request.command() == null ? ControlRequest.Reply.failed("empty request")
                        : handler.apply(request);
            } catch (JsonParseException e) {
                reply = ControlRequest.Reply.failed("not a JSON request: " + e.getMessage());
            }
            byte[] out = (GSON.toJson(reply) + "\n").getBytes(StandardCharsets.UTF_8);
            ByteBuffer buf = ByteBuffer.wrap(out);
            while (buf.hasRemaining())
                client.write(buf);
        } catch (IOException | RuntimeException e) {
            log.debug("control client: {}", e.toString());
        }
    }

    /** One line of at most MAX_REQUEST bytes. */
    static String readLine(SocketChannel channel) throws IOException {
        var in = Channels.newInputStream(channel);
        byte[] buf = new byte[MAX_REQUEST];
        int n = 0;
        int b;
        while ((b = in.read()) >= 0 && b != '\n') {
            if (n == buf.length)
                throw new IOException("request longer than " + MAX_REQUEST + " bytes");
            buf[n++] = (byte) b;
        }
        return new String(buf, 0, n, StandardCharsets.UTF_8);
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
            log.debug("closing the control socket: {}", e.toString());
        }
        if (acceptor != null)
            acceptor.interrupt();
    }
}
