// The client side of the control socket, for `qbnet status` and
// `qbnet forward`: one request, one reply, errors that say what to do.
package dev.qbkit.qbnet.control;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

public final class ControlClient {
    private ControlClient() {
    }

    public static ControlRequest.Reply call(Path path, ControlRequest request) throws IOException {
        if (!Files.exists(path))
            throw new IOException("no qbnet is running with control socket " + path
                    + " (start 'qbnet run', or pass the --control PATH it uses)");
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(path));
            ByteBuffer out = ByteBuffer.wrap((ControlServer.GSON.toJson(request) + "\n").getBytes(StandardCharsets.UTF_8));
            while (out.hasRemaining())
                channel.write(out);
            String line = ControlServer.readLine(channel);
            ControlRequest.Reply reply = ControlServer.GSON.fromJson(line, ControlRequest.Reply.class);
            if (reply == null)
                throw new IOException("qbnet at " + path + " sent no reply");
            return reply;
        } catch (java.net.SocketException e) {
            throw new IOException("cannot reach qbnet at " + path + ": " + e.getMessage()
                    + " (is 'qbnet run' running? a stale socket file can be removed)");
        }
    }

    static boolean isServing(Path path) {
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(path));
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
