// Pings this host's loopback through the OS echo sender the NAT uses: the
// reply must come back with the board's identifier and sequence restored.
package dev.qbkit.qbnet.platform;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.InetAddress;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import dev.qbkit.qbnet.nat.EchoSender;

class EchoSenderTest {
    record Reply(byte[] board, InetAddress from, int id, int seq, byte[] payload) {
    }

    @Test
    void pingToLoopbackComesBackWithTheBoardsIdentifiers() throws Exception {
        BlockingQueue<Reply> replies = new ArrayBlockingQueue<>(8);
        byte[] board = { 10, 113, 98, 2 };
        try (EchoSender sender = EchoSenders.forBoard(Runnable::run,
                (b, from, id, seq, payload) -> replies.add(new Reply(b, from, id, seq, payload)))) {
            assumeTrue(sender.available(false),
                    "no ICMP sockets here (not root and ping_group_range closed): the sender says so and the NAT answers 'prohibited'");
            byte[] payload = "qbnet echo test payload".getBytes();
            for (int seq = 1; seq <= 3; seq++)
                sender.send(board, InetAddress.getByName("127.0.0.1"), 0x4242, seq, payload);
            for (int seq = 1; seq <= 3; seq++) {
                Reply r = replies.poll(5, TimeUnit.SECONDS);
                if (r == null)
                    throw new AssertionError("no echo reply for seq " + seq);
                assertEquals(0x4242, r.id(), "the board's identifier, not the socket's");
                assertArrayEquals(board, r.board());
                assertEquals("127.0.0.1", r.from().getHostAddress());
                assertArrayEquals(payload, r.payload());
            }
        }
    }
}
