// A board's session and NAT held across a link loss (issue 14), with the real
// BoardSession, Nat, LinkOutput and a real host socket on loopback: while held
// nothing reaches the board, no timer gives a flow up and the host socket is
// read only to the flow's buffer; on a new link the flow resumes and every
// byte arrives in order. Past the hold the flows go and their memory returns.
package dev.qbkit.qbnet.nat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.qbkit.qbnet.board.BoardSession;
import dev.qbkit.qbnet.control.BoardStatus;
import dev.qbkit.qbnet.link.BundleBuilder;
import dev.qbkit.qbnet.link.BundleDrop;
import dev.qbkit.qbnet.link.Bundles;
import dev.qbkit.qbnet.link.ControlCodec;
import dev.qbkit.qbnet.link.ControlMessage;
import dev.qbkit.qbnet.link.Link;
import dev.qbkit.qbnet.loop.EventLoop;

class NatHoldTest {
    static final byte[] BOARD = { 10, 113, 98, 2 };
    static final byte[] GATEWAY = { 10, 113, 98, 1 };
    static final int BOARD_PORT = 40000;
    static final int IRS = 7000;
    static final String SERIAL = "hold-test";

    /** A link the test feeds and reads: bundles sent are kept; closing it is an unplug. */
    static final class TestLink implements Link {
        final ConcurrentLinkedQueue<byte[]> sent = new ConcurrentLinkedQueue<>();
        volatile Handler handler;
        volatile boolean closed;

        @Override
        public void start(Handler h) {
            handler = h;
        }

        @Override
        public boolean send(ByteBuffer bundle) {
            if (closed)
                return false;
            byte[] copy = new byte[bundle.remaining()];
            bundle.get(bundle.position(), copy);
            sent.add(copy);
            handler.onSent(bundle);
            return true;
        }

        @Override
        public boolean congested() {
            return false;
        }

        @Override
        public int maxReceiveBundle() {
            return 262144;
        }

        @Override
        public void close(String reason) {
            if (closed)
                return;
            closed = true;
            handler.onClosed(reason);
        }

        @Override
        public String description() {
            return "test";
        }
    }

    /** HostDriver's keeper in small: held sessions by serial. */
    static final class TestKeeper implements BoardSession.Keeper {
        final Map<String, BoardSession> held = new ConcurrentHashMap<>();
        final long hold;
        volatile int cannotHold;

        TestKeeper(long holdNanos) {
            this.hold = holdNanos;
        }

        @Override
        public long holdNanos() {
            return hold;
        }

        @Override
        public void held(BoardSession s) {
            held.put(s.serial(), s);
        }

        @Override
        public void unheld(BoardSession s) {
            held.remove(s.serial(), s);
        }

        @Override
        public void cannotHold(BoardSession s) {
            cannotHold++;
        }

        @Override
        public BoardSession claim(String serial, BoardSession requester) {
            return held.remove(serial); // (HostDriver also takes the session's own claim flag)
        }
    }

    /** The board's TCP receiver: takes in-order data only, acks cumulatively. */
    static final class BoardReceiver {
        final java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
        int rcvNxt;
        int sndNxt = IRS + 1;
        final List<Segment> resets = new ArrayList<>();

        /** Reads what the link carried: returns the acks the board's kernel would send. */
        List<Segment> take(TestLink link, int gatewayPort) {
            List<Segment> acks = new ArrayList<>();
            for (byte[] bundle; (bundle = link.sent.poll()) != null;) {
                ByteBuffer b = ByteBuffer.wrap(bundle);
                Bundles.forEachFrame(b, 0, bundle.length, (channel, buf, offset, length) -> {
                    if (channel != Bundles.CHANNEL_IP)
                        return;
                    byte[] packet = new byte[length];
                    buf.get(offset, packet);
                    Segment s = Segment.parse(packet, GATEWAY, BOARD);
                    if ((s.flags() & Segment.R) != 0) {
                        resets.add(s);
                        return;
                    }
                    if ((s.flags() & Segment.S) != 0) {
                        rcvNxt = s.seq() + 1;
                        acks.add(Segment.of(BOARD_PORT, gatewayPort, sndNxt, rcvNxt, Segment.A, 65535));
                        return;
                    }
                    if (s.payload().length > 0 && s.seq() == rcvNxt) {
                        got.writeBytes(s.payload());
                        rcvNxt += s.payload().length;
                    }
                    if (s.payload().length > 0)
                        acks.add(Segment.of(BOARD_PORT, gatewayPort, sndNxt, rcvNxt, Segment.A, 65535));
                });
            }
            return acks;
        }
    }

    EventLoop loop;
    ServerSocketChannel server;
    List<SocketChannel> accepted = new ArrayList<>();

    @BeforeEach
    void up() throws IOException {
        loop = new EventLoop("hold-test");
        loop.start();
        server = ServerSocketChannel.open();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    }

    @AfterEach
    void down() throws Exception {
        loop.shutdown();
        loop.join();
        for (SocketChannel c : accepted)
            c.close();
        server.close();
    }

    <T> T onLoop(Callable<T> work) throws Exception {
        CompletableFuture<T> f = new CompletableFuture<>();
        loop.execute(() -> {
            try {
                f.complete(work.call());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f.get(10, TimeUnit.SECONDS);
    }

    static byte[] bundleOf(int channel, byte[]... payloads) {
        BundleBuilder b = new BundleBuilder();
        b.start(ByteBuffer.allocate(262144), 262144);
        for (byte[] p : payloads)
            b.addFrame(channel, ByteBuffer.wrap(p));
        ByteBuffer done = b.finish();
        byte[] out = new byte[done.remaining()];
        done.get(out);
        return out;
    }

    static byte[] boardHello(int mtu) {
        return ControlCodec.encode(new ControlMessage.Hello(1, 1, ControlMessage.ROLE_BOARD, 262144, mtu, SERIAL,
                "test", 0));
    }

    void deliver(BoardSession s, byte[] bundle) throws Exception {
        onLoop(() -> {
            s.onBundle(ByteBuffer.wrap(bundle), 0, bundle.length);
            return null;
        });
    }

    void boardSends(BoardSession s, List<Segment> segments) throws Exception {
        if (segments.isEmpty())
            return;
        byte[][] packets = segments.stream().map(seg -> seg.toPacket(BOARD, GATEWAY)).toArray(byte[][]::new);
        deliver(s, bundleOf(Bundles.CHANNEL_IP, packets));
    }

    /** Control messages the board got, decoded. */
    static List<ControlMessage> controls(List<byte[]> bundles) {
        List<ControlMessage> out = new ArrayList<>();
        for (byte[] bundle : bundles)
            Bundles.forEachFrame(ByteBuffer.wrap(bundle), 0, bundle.length, (channel, buf, offset, length) -> {
                if (channel == Bundles.CHANNEL_CONTROL)
                    out.add(ControlCodec.decode(buf, offset, length).message());
            });
        return out;
    }

    record Setup(BoardSession session, TestLink link, TestKeeper keeper, CountDownLatch ended) {
    }

    Setup session(long holdNanos) throws Exception {
        TestLink link = new TestLink();
        TestKeeper keeper = new TestKeeper(holdNanos);
        CountDownLatch ended = new CountDownLatch(1);
        NatConfig config = NatConfig.defaults().toBuilder().allowHostLoopback(true).offload(false).build();
        DnsUpstreams upstreams = DnsUpstreams.of(List.of(new InetSocketAddress("127.0.0.1", 53)));
        BoardSession s = onLoop(() -> {
            BoardSession made = new BoardSession(1, link, loop, config, upstreams, x -> {
            }, ended::countDown);
            made.setKeeper(keeper);
            made.start();
            return made;
        });
        deliver(s, bundleOf(Bundles.CHANNEL_CONTROL, boardHello(1500)));
        assertEquals(BoardSession.State.ACTIVE, s.state());
        return new Setup(s, link, keeper, ended);
    }

    /** The board opens a connection to the host's loopback server through the gateway. */
    SocketChannel connect(Setup t, BoardReceiver board) throws Exception {
        int port = ((InetSocketAddress) server.getLocalAddress()).getPort();
        boardSends(t.session(), List.of(Segment.of(BOARD_PORT, port, IRS, 0, Segment.S, 65535).withOptions(1460, 7, true)));
        SocketChannel c = server.accept();
        accepted.add(c);
        c.setOption(StandardSocketOptions.SO_SNDBUF, 256 << 10);
        long deadline = System.nanoTime() + 5_000_000_000L;
        List<Segment> acks;
        do {
            acks = board.take(t.link(), port);
            Thread.sleep(5);
        } while (acks.isEmpty() && System.nanoTime() < deadline);
        boardSends(t.session(), acks); // the handshake's last ack
        return c;
    }

    static byte[] pattern(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++)
            b[i] = (byte) (i * 31 + seed + (i >>> 11));
        return b;
    }

    /** Writes what the socket takes now, without blocking; returns how much. */
    static int writeSome(SocketChannel c, ByteBuffer data) throws IOException {
        c.configureBlocking(false);
        return c.write(data);
    }

    /** Runs the board's side until it has {@code total} bytes or the time is up. */
    void pump(Setup t, TestLink link, BoardReceiver board, SocketChannel host, ByteBuffer data, int total, long nanos)
            throws Exception {
        int port = ((InetSocketAddress) server.getLocalAddress()).getPort();
        long deadline = System.nanoTime() + nanos;
        while (board.got.size() < total && System.nanoTime() < deadline) {
            if (data.hasRemaining())
                writeSome(host, data);
            boardSends(t.session(), board.take(link, port));
            Thread.sleep(2);
        }
    }

    long stat(BoardSession s, Counter c) throws Exception {
        return onLoop(() -> s.stats().get(c));
    }

    @Test
    void aFlowOutlivesTheLinkAndResumesOnTheNextOneWithEveryByteInOrder() throws Exception {
        Setup t = session(30_000_000_000L);
        BoardReceiver board = new BoardReceiver();
        SocketChannel host = connect(t, board);
        byte[] all = pattern(16 << 20, 1); // more than the flow's buffer and both loopback sockets' hold
        ByteBuffer data = ByteBuffer.wrap(all);
        data.limit(256 << 10);
        pump(t, t.link(), board, host, data, 256 << 10, 5_000_000_000L);
        assertEquals(256 << 10, board.got.size(), "the first 256 KiB arrived before the cut");
        Nat nat = t.session().nat();
        TcpFlow flow = onLoop(() -> nat.tcp().countByState().size() == 1 ? nat.tcp().get(flowKey()) : null);
        assertNotNull(flow);

        // Unplugged with data in flight: the link goes, the board is held.
        data.limit(all.length);
        writeSome(host, data);
        long inFlight = System.nanoTime() + 2_000_000_000L;
        while (t.link().sent.isEmpty() && System.nanoTime() < inFlight)
            Thread.sleep(2); // segments the board will never see
        assertTrue(!t.link().sent.isEmpty(), "data was in flight at the cut");
        onLoop(() -> {
            t.link().close("unplugged");
            return null;
        });
        assertEquals(BoardSession.State.HELD, t.session().state());
        assertSame(t.session(), t.keeper().held.get(SERIAL));
        BoardStatus held = onLoop(t.session()::snapshot);
        assertEquals("held", held.state());
        assertTrue(held.heldSecondsLeft() >= 29 && held.heldSecondsLeft() <= 30, "held, " + held.heldSecondsLeft() + " s left");
        long timeouts = stat(t.session(), Counter.TCP_TIMEOUTS);
        long retransmits = stat(t.session(), Counter.TCP_RETRANSMITS);

        // 1.5 s held: several RTOs long; the host keeps sending.
        long end = System.nanoTime() + 1_500_000_000L;
        while (System.nanoTime() < end) {
            writeSome(host, data);
            Thread.sleep(10);
        }
        assertEquals(timeouts, stat(t.session(), Counter.TCP_TIMEOUTS), "no retransmission timeout while held");
        assertEquals(retransmits, stat(t.session(), Counter.TCP_RETRANSMITS));
        long buffered = onLoop(() -> (long) flow.bufferedBytes());
        assertTrue(buffered <= NatConfig.defaults().tcpSendBuffer(), "the flow read only to its buffer: " + buffered);
        assertTrue(data.hasRemaining(), "so the host's writes were held back by TCP, not buffered without end");
        assertEquals(TcpFlow.State.ESTABLISHED, onLoop(flow::state));

        // The board comes back on a new link.
        TestLink second = new TestLink();
        BoardSession claimed = t.keeper().claim(SERIAL, null);
        assertSame(t.session(), claimed);
        onLoop(() -> {
            claimed.resume(second, null);
            return null;
        });
        List<ControlMessage> greeting = controls(new ArrayList<>(second.sent));
        second.sent.clear();
        assertTrue(greeting.getFirst() instanceof ControlMessage.Hello h && h.instance() != 0,
                "our HELLO, with this process's instance: " + greeting);
        deliver(t.session(), bundleOf(Bundles.CHANNEL_CONTROL, boardHello(1500)));
        assertEquals(BoardSession.State.ACTIVE, t.session().state());
        assertSame(nat, t.session().nat(), "the same NAT");
        pump(t, second, board, host, data, all.length, 20_000_000_000L);
        assertEquals(all.length, board.got.size(), "every byte arrived");
        assertTrue(java.util.Arrays.equals(all, board.got.toByteArray()), "in order, intact");
        assertEquals(1, stat(t.session(), Counter.LINK_RESUMES));
        assertSame(flow, onLoop(() -> nat.tcp().get(flowKey())), "the same flow");
        assertTrue(stat(t.session(), Counter.TCP_RETRANSMITS) > retransmits, "what the cut lost was sent again");
    }

    FlowKey flowKey() throws IOException {
        int port = ((InetSocketAddress) server.getLocalAddress()).getPort();
        return new FlowKey(6, BOARD, BOARD_PORT, GATEWAY, port);
    }

    @Test
    void pastTheHoldTheFlowsAreResetAndTheirMemoryReturns() throws Exception {
        Setup t = session(400_000_000L);
        BoardReceiver board = new BoardReceiver();
        SocketChannel host = connect(t, board);
        Nat nat = t.session().nat();
        onLoop(() -> {
            t.link().close("unplugged");
            return null;
        });
        ByteBuffer data = ByteBuffer.wrap(pattern(2 << 20, 2));
        long end = System.nanoTime() + 200_000_000L;
        while (System.nanoTime() < end) { // data the board will never take waits in the flow's buffer
            writeSome(host, data);
            Thread.sleep(10);
        }
        assertTrue(onLoop(() -> nat.buffers().inUseBytes()) > 0, "the held flow holds data");
        assertTrue(t.ended().await(5, TimeUnit.SECONDS), "the session ended past its hold");
        assertEquals(0, (int) onLoop(() -> nat.tcp().size()), "every flow freed");
        assertEquals(0L, (long) onLoop(() -> nat.buffers().inUseBytes()), "every buffer given back");
        assertNull(t.keeper().held.get(SERIAL), "no longer held");
        assertEquals(0, stat(t.session(), Counter.TCP_RESETS_TO_BOARD), "no reset written for the gone board");
        host.configureBlocking(true);
        host.socket().setSoTimeout(5000);
        assertThrows(IOException.class, () -> {
            ByteBuffer sink = ByteBuffer.allocate(1 << 16);
            while (host.read(sink.clear()) >= 0) {
                // drain
            }
            throw new AssertionError("the host socket was closed, not reset");
        }, "the host peer sees a reset");
    }

    @Test
    void aResetWhileHeldReachesTheBoardWhenItComesBack() throws Exception {
        Setup t = session(30_000_000_000L);
        BoardReceiver board = new BoardReceiver();
        SocketChannel host = connect(t, board);
        onLoop(() -> {
            t.link().close("unplugged");
            return null;
        });
        host.setOption(StandardSocketOptions.SO_LINGER, 0);
        host.close(); // the remote peer resets the connection while the board is away
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (onLoop(() -> t.session().nat().tcp().size()) > 0 && System.nanoTime() < deadline)
            Thread.sleep(10);
        assertEquals(0, (int) onLoop(() -> t.session().nat().tcp().size()));
        TestLink second = new TestLink();
        BoardSession claimed = t.keeper().claim(SERIAL, null);
        onLoop(() -> {
            claimed.resume(second, null);
            return null;
        });
        deliver(t.session(), bundleOf(Bundles.CHANNEL_CONTROL, boardHello(1500)));
        long until = System.nanoTime() + 2_000_000_000L;
        while (second.sent.size() < 2 && System.nanoTime() < until)
            Thread.sleep(2); // the round's flush sends what the HELLO caused
        List<String> order = new ArrayList<>();
        for (byte[] bundle : second.sent)
            Bundles.forEachFrame(ByteBuffer.wrap(bundle), 0, bundle.length, (channel, buf, offset, length) -> order.add(
                    channel == Bundles.CHANNEL_IP ? "ip" : ControlCodec.decode(buf, offset, length).message()
                            .getClass().getSimpleName()));
        assertEquals(List.of("Hello", "Config", "ip"), order, "the reset goes once the board is configured again");
        int port = ((InetSocketAddress) server.getLocalAddress()).getPort();
        board.take(second, port);
        assertEquals(1, board.resets.size(), "the kept reset: " + board.resets);
        assertEquals(1, stat(t.session(), Counter.TCP_HELD_RESETS));
    }

    @Test
    void aBoardBackWithAnotherMtuGetsFreshFlows() throws Exception {
        Setup t = session(30_000_000_000L);
        BoardReceiver board = new BoardReceiver();
        connect(t, board);
        Nat nat = t.session().nat();
        onLoop(() -> {
            t.link().close("unplugged");
            return null;
        });
        TestLink second = new TestLink();
        BoardSession claimed = t.keeper().claim(SERIAL, null);
        onLoop(() -> {
            claimed.resume(second, null);
            return null;
        });
        deliver(t.session(), bundleOf(Bundles.CHANNEL_CONTROL, boardHello(1400)));
        assertEquals(BoardSession.State.ACTIVE, t.session().state());
        assertTrue(nat != t.session().nat(), "a new NAT");
        assertEquals(0, (int) onLoop(() -> nat.tcp().size()), "the held flows were reset");
        assertEquals(0, stat(t.session(), Counter.LINK_RESUMES));
        assertTrue(!onLoop(() -> t.session().nat().isHeld()));
    }

    @Test
    void aBoardWithoutASerialIsNotHeld() throws Exception {
        TestLink link = new TestLink();
        TestKeeper keeper = new TestKeeper(30_000_000_000L);
        CountDownLatch ended = new CountDownLatch(1);
        DnsUpstreams upstreams = DnsUpstreams.of(List.of(new InetSocketAddress("127.0.0.1", 53)));
        BoardSession s = onLoop(() -> {
            BoardSession made = new BoardSession(2, link, loop, NatConfig.defaults(), upstreams, x -> {
            }, ended::countDown);
            made.setKeeper(keeper);
            made.start();
            return made;
        });
        deliver(s, bundleOf(Bundles.CHANNEL_CONTROL, ControlCodec.encode(new ControlMessage.Hello(1, 1,
                ControlMessage.ROLE_BOARD, 262144, 1500, null, "test", 0))));
        onLoop(() -> {
            link.close("unplugged");
            return null;
        });
        assertTrue(ended.await(5, TimeUnit.SECONDS), "ends with its link");
        assertEquals(1, keeper.cannotHold, "and says why");
    }

    @Test
    void stoppingEndsAHeldBoardAtOnce() throws Exception {
        Setup t = session(30_000_000_000L);
        onLoop(() -> {
            t.link().close("unplugged");
            return null;
        });
        assertEquals(BoardSession.State.HELD, t.session().state());
        // The keeper here has no claim flag of its own; the session's is taken by close().
        onLoop(() -> {
            t.session().close("qbnet is stopping");
            return null;
        });
        assertTrue(t.ended().await(5, TimeUnit.SECONDS));
        assertNull(t.keeper().held.get(SERIAL));
    }
}
