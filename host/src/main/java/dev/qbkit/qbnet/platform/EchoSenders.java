// Chooses how a board's pings leave this host, by OS: ICMP sockets on Linux
// and macOS, the ICMP helper API on Windows, none elsewhere.
package dev.qbkit.qbnet.platform;

import java.util.concurrent.Executor;

import dev.qbkit.qbnet.nat.EchoSender;

public final class EchoSenders {
    private EchoSenders() {
    }

    /** An echo sender whose replies are handed to {@code replies} on {@code loop}. */
    public static EchoSender forBoard(Executor loop, EchoSender.Replies replies) {
        return switch (Platform.os()) {
            case LINUX, MACOS -> new SocketEchoSender(loop, replies);
            case WINDOWS -> new WindowsEchoSender(loop, replies);
            case OTHER -> EchoSender.NONE;
        };
    }
}
