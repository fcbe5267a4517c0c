// WindowsEchoSender over a fake ICMP API, on every OS: replies are read at the
// header's offsets and reach the board, and close() never closes a handle
// under a call that is still using it.
package dev.qbkit.qbnet.platform;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

class WindowsEchoSenderTest {
    /** Answers every echo as Windows does, after {@code release} opens; logs every call. */
    static final class FakeIcmpApi implements WindowsEchoSender.IcmpApi {
        final List<String> log = Collections.synchronizedList(new ArrayList<>());
        final CountDownLatch callStarted = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final CountDownLatch handlesClosed;

        FakeIcmpApi(int handles) {
            handlesClosed = new CountDownLatch(handles);
        }

        @Override
        public MemorySegment create(boolean ipv6) {
            log.add("create " + (ipv6 ? 6 : 4));
            return MemorySegment.ofAddress(ipv6 ? 0x6000 : 0x4000);
        }

        @Override
        public int send4(MemorySegment handle, int address, MemorySegment data, int size, MemorySegment reply,
                int replySize, int timeoutMillis) throws InterruptedException {
            throw new AssertionError("this test pings IPv6 only");
        }

        @Override
        public int send6(MemorySegment handle, MemorySegment source, MemorySegment destination, MemorySegment data,
                int size, MemorySegment reply, int replySize, int timeoutMillis) throws InterruptedException {
            log.add("send6 on 0x" + Long.toHexString(handle.address()));
            callStarted.countDown();
            assertTrue(release.await(10, TimeUnit.SECONDS), "the test never released the call");
            // ICMPV6_ECHO_REPLY (WindowsEchoReplyTest builds it from ipexport.h): Status at 28, data at 36.
            reply.set(JAVA_INT, 28, WindowsEchoReply.IP_SUCCESS);
            MemorySegment.copy(data, 0, reply, 36, size);
            log.add("send6 returns");
            return 1;
        }

        @Override
        public void close(MemorySegment handle) {
            log.add("close 0x" + Long.toHexString(handle.address()));
            handlesClosed.countDown();
        }
    }

    record Reply(byte[] board, InetAddress from, int identifier, int sequence, byte[] payload) {
    }

    @Test
    void closeWaitsForTheCallThatUsesTheHandle() throws Exception {
        FakeIcmpApi api = new FakeIcmpApi(2);
        BlockingQueue<Reply> replies = new ArrayBlockingQueue<>(4);
        WindowsEchoSender sender = new WindowsEchoSender(api, Runnable::run,
                (board, from, id, seq, payload) -> replies.add(new Reply(board, from, id, seq, payload)));
        byte[] board = { (byte) 0xfd, 0x71, 0x62, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };
        InetAddress target = InetAddress.getByName("fd51:6274::2");
        assertTrue(sender.available(false) && sender.available(true));
        sender.send(board, target, 0x4242, 7, "qbnet ping".getBytes());
        assertTrue(api.callStarted.await(5, TimeUnit.SECONDS), "the echo call never started");

        sender.close(); // while Icmp6SendEcho2 is still blocked on its handle
        assertFalse(sender.available(true), "a closed sender offers nothing");
        api.release.countDown();
        assertTrue(api.handlesClosed.await(5, TimeUnit.SECONDS), "the handles were never closed: " + api.log);

        List<String> log = List.copyOf(api.log);
        assertTrue(log.indexOf("send6 returns") >= 0 && log.indexOf("send6 returns") < log.indexOf("close 0x6000"),
                "the IPv6 handle was closed under the call using it: " + log);
        assertTrue(log.contains("close 0x4000"), log.toString());
        Reply r = replies.poll(5, TimeUnit.SECONDS);
        assertNotNull(r, "the reply that came back before the close still reaches the board");
        assertEquals(0x4242, r.identifier());
        assertEquals(7, r.sequence());
        assertArrayEquals("qbnet ping".getBytes(), r.payload());
    }

    @Test
    void aSenderClosedBeforeAnyPingClosesWhatItOpened() throws Exception {
        FakeIcmpApi api = new FakeIcmpApi(1);
        WindowsEchoSender sender = new WindowsEchoSender(api, Runnable::run, (b, f, i, s, p) -> {
        });
        assertTrue(sender.available(true));
        sender.close();
        assertTrue(api.handlesClosed.await(5, TimeUnit.SECONDS), "the handle opened was not closed: " + api.log);
        sender.send(new byte[16], InetAddress.getByName("fd51:6274::2"), 1, 1, new byte[8]);
        assertEquals(List.of("create 6", "close 0x6000"), List.copyOf(api.log), "nothing is sent after close");
    }
}
