// Sends ICMP/ICMPv6 echo requests from the host on behalf of a board and
// reports the replies; implemented per OS (unprivileged ping sockets on Linux
// and macOS, the ICMP API on Windows) in the platform package, handed in
// through a Factory.
package dev.qbkit.qbnet.nat;

import java.net.InetAddress;
import java.util.concurrent.Executor;

public interface EchoSender extends AutoCloseable {
    /** A reply, delivered on the board's loop thread. */
    @FunctionalInterface
    interface Replies {
        void onEchoReply(byte[] board, InetAddress from, int identifier, int sequence, byte[] payload);
    }

    /**
     * Opens the host's echo sender for one board; replies go to
     * {@code replies} on {@code loop}. The OS-specific ones live in
     * platform/EchoSenders, which the board session hands the NAT, so the NAT
     * never depends on the platform package.
     */
    @FunctionalInterface
    interface Factory {
        EchoSender open(Executor loop, Replies replies);
    }

    /** Whether echo can be sent for this family (false: the reason was logged once). */
    boolean available(boolean ipv6);

    /**
     * Sends an echo request to {@code destination} for the board address
     * {@code board}; the reply, if any, comes back through the Replies given
     * at creation with the board's own identifier and sequence number.
     */
    void send(byte[] board, InetAddress destination, int identifier, int sequence, byte[] payload);

    @Override
    void close();

    /** No echo at all: every request is answered "administratively prohibited". */
    EchoSender NONE = new EchoSender() {
        @Override
        public boolean available(boolean ipv6) {
            return false;
        }

        @Override
        public void send(byte[] board, InetAddress destination, int identifier, int sequence, byte[] payload) {
        }

        @Override
        public void close() {
        }
    };
}
