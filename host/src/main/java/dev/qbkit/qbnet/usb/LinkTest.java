// `qbnet link-test`: measures the bare USB transport to one board with the
// real UsbLink and no session or NAT: board → host with LINK_TEST filler,
// host → board with MAX_BUNDLE bundles of channel-65535 frames, every OUT transfer busy.
package dev.qbkit.qbnet.usb;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Collections;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import dev.qbkit.qbnet.Version;
import dev.qbkit.qbnet.link.BundleBuilder;
import dev.qbkit.qbnet.link.BundleDrop;
import dev.qbkit.qbnet.link.Bundles;
import dev.qbkit.qbnet.link.ControlCodec;
import dev.qbkit.qbnet.link.ControlMessage;
import dev.qbkit.qbnet.link.Link;
import dev.qbkit.qbnet.loop.EventLoop;
import dev.qbkit.qbnet.loop.Timer;

public final class LinkTest implements Link.Handler {
    /** Link-test filler: receivers discard and count it (doc/PROTOCOL.md section 1). */
    public static final int CHANNEL_LINK_TEST = 65535;
    private static final long SECOND = 1_000_000_000L;

    /** What one direction moved: filler payload bytes over the time they took. */
    public record Direction(long bytes, long nanos) {
        public double megabytesPerSecond() {
            return nanos <= 0 ? 0 : bytes / (nanos / 1e9) / 1e6;
        }
    }

    public record Result(Direction boardToHost, Direction hostToBoard, int outBundleSize, long droppedBundles,
            String boardError) {
    }

    private final UsbLink link;
    private final EventLoop loop;
    private final int maxReceive;
    private final CountDownLatch helloSeen = new CountDownLatch(1);
    private volatile ControlMessage.Hello boardHello;
    private volatile String boardError;
    private long keepaliveSeq;

    // board → host (loop thread writes, main thread reads after the phase)
    private volatile long inBytes;
    private volatile long inFirstAt;
    private volatile long inFirstBytes;
    private volatile long inLastAt;
    private volatile long droppedBundles;

    // host → board
    private volatile boolean sending;
    private volatile long outBytes;
    private volatile long outStartedAt;
    private volatile long outLastAt;
    private volatile int outInFlight;
    /** The filler bundles, told apart from control bundles by identity. */
    private final Set<ByteBuffer> outBundles = Collections.newSetFromMap(new IdentityHashMap<>());

    private final Timer keepaliveTimer = new Timer() {
        @Override
        protected void fire(long now) {
            sendControl(new ControlMessage.Keepalive(keepaliveSeq++ & 0xFFFFFFFFL, -1));
            loop.schedule(this, now + SECOND);
        }
    };

    private LinkTest(UsbLink link, EventLoop loop, int maxReceive) {
        this.link = link;
        this.loop = loop;
        this.maxReceive = maxReceive;
    }

    /**
     * Opens the first qbnet board (by bus-port path) among {@code ids},
     * waiting up to {@code waitMillis} for one to appear.
     */
    public static UsbBoard openFirst(UsbContext context, Set<UsbId> ids, long waitMillis)
            throws UsbException, InterruptedException {
        long deadline = System.nanoTime() + waitMillis * 1_000_000;
        while (true) {
            List<UsbDevice> devices = UsbDevice.scan(context, ids);
            try {
                devices.sort(Comparator.comparing(UsbDevice::location));
                UsbException notQbnet = null;
                for (UsbDevice d : devices) {
                    if (d.qbnet() != null)
                        return UsbBoard.open(context, d, true);
                    notQbnet = new UsbException(d.describe() + " is not a qbnet board: " + d.noInterfaceReason());
                }
                if (System.nanoTime() - deadline >= 0) {
                    if (notQbnet != null)
                        throw notQbnet;
                    throw new UsbException("no qbnet board on USB (looked for "
                            + ids.stream().map(UsbId::toString).sorted().toList() + "): plug one in, check that "
                            + "qbnetd --link usb runs on it, or give its ID with --usb-id VID:PID");
                }
            } finally {
                for (UsbDevice d : devices)
                    d.close();
            }
            Thread.sleep(200);
        }
    }

    /**
     * Runs both directions for {@code seconds} each on {@code board} (which
     * the test takes over and closes) and returns what moved.
     */
    public static Result run(UsbBoard board, int maxReceive, int seconds) throws UsbException, InterruptedException {
        if (seconds < 1 || seconds > 60)
            throw new IllegalArgumentException("seconds must be 1..60");
        EventLoop loop;
        try {
            loop = new EventLoop("link-test");
        } catch (IOException e) {
            board.close();
            throw new UsbException("cannot start an event loop: " + e.getMessage());
        }
        ExecutorService blocking = Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().name("usb-release")
                .daemon(true).unstarted(r));
        CountDownLatch released = new CountDownLatch(1);
        UsbLink link = new UsbLink(board, loop, blocking, maxReceive, maxReceive, released::countDown);
        LinkTest test = new LinkTest(link, loop, maxReceive);
        loop.start();
        try {
            board.resetLink();
            loop.execute(test::start);
            test.helloSeen.await(2, TimeUnit.SECONDS);
            Direction in = test.boardToHost(board, seconds);
            int outSize = test.outBundleSize(board);
            Direction out = test.hostToBoard(outSize, seconds);
            return new Result(in, out, outSize, test.droppedBundles, test.boardError);
        } finally {
            loop.execute(() -> link.close("link test done"));
            // Normally quick; a board whose transfers never finish is left open to the process exit.
            released.await(3, TimeUnit.SECONDS);
            loop.shutdown();
            loop.join();
            blocking.shutdown();
        }
    }

    private void start() {
        link.start(this);
        sendControl(new ControlMessage.Hello(1, 1, ControlMessage.ROLE_HOST, maxReceive, 0, null,
                "qbnet " + Version.get() + " link-test", 0));
        loop.schedule(keepaliveTimer, loop.now() + SECOND);
    }

    private Direction boardToHost(UsbBoard board, int seconds) throws UsbException, InterruptedException {
        board.linkTest(seconds * 1000);
        Thread.sleep(seconds * 1000L + 300);
        board.linkTest(0);
        Thread.sleep(100);
        long first = inFirstAt;
        long last = inLastAt;
        if (first == 0 || last <= first)
            return new Direction(inBytes, 0);
        return new Direction(inBytes - inFirstBytes, last - first);
    }

    /** The board's MAX_BUNDLE: from its HELLO, else GET_INFO, else what anyone may send before HELLO. */
    private int outBundleSize(UsbBoard board) {
        ControlMessage.Hello h = boardHello != null ? boardHello : board.info();
        long max = h == null ? Bundles.INITIAL_MAX : h.maxBundle();
        return (int) Math.min(Math.max(max, Bundles.INITIAL_MAX), Bundles.ABSOLUTE_MAX);
    }

    private Direction hostToBoard(int bundleSize, int seconds) throws InterruptedException {
        CountDownLatch started = new CountDownLatch(1);
        loop.execute(() -> {
            List<ByteBuffer> fillers = new java.util.ArrayList<>();
            for (int i = 0; i < UsbLink.OUT_TRANSFERS + 2; i++)
                fillers.add(fillerBundle(bundleSize));
            outBundles.addAll(fillers);
            outStartedAt = loop.now();
            sending = true;
            for (ByteBuffer b : fillers)
                sendFiller(b);
            started.countDown();
        });
        started.await();
        Thread.sleep(seconds * 1000L);
        sending = false;
        long waitUntil = System.nanoTime() + SECOND;
        while (outInFlight > 0 && System.nanoTime() - waitUntil < 0)
            Thread.sleep(10);
        return new Direction(outBytes, outLastAt - outStartedAt);
    }

    private static ByteBuffer fillerBundle(int size) {
        BundleBuilder builder = new BundleBuilder();
        builder.start(ByteBuffer.allocateDirect(size), size);
        int payload = size - Bundles.HEADER_SIZE - Bundles.FRAME_HEADER_SIZE;
        builder.beginFrame(CHANNEL_LINK_TEST);
        builder.endFrame(payload);
        return builder.finish();
    }

    private void sendFiller(ByteBuffer bundle) {
        bundle.rewind();
        if (link.send(bundle))
            outInFlight++;
    }

    private void sendControl(ControlMessage message) {
        byte[] payload = ControlCodec.encode(message);
        BundleBuilder builder = new BundleBuilder();
        int size = Bundles.HEADER_SIZE + Bundles.FRAME_HEADER_SIZE + payload.length;
        builder.start(ByteBuffer.allocateDirect(size), size);
        int at = builder.beginFrame(Bundles.CHANNEL_CONTROL);
        builder.buffer().put(at, payload);
        builder.endFrame(payload.length);
        link.send(builder.finish());
    }

    // ---- link events (loop thread) -------------------------------------------

    @Override
    public void onBundle(ByteBuffer buf, int offset, int length) {
        if (Bundles.validate(buf, offset, length, maxReceive) != null) {
            droppedBundles++;
            return;
        }
        Bundles.forEachFrame(buf, offset, length, this::onFrame);
    }

    private void onFrame(int channel, ByteBuffer buf, int offset, int length) {
        if (channel == CHANNEL_LINK_TEST) {
            long now = System.nanoTime();
            if (inFirstAt == 0) {
                inFirstAt = now;
                inFirstBytes = length;
            }
            inLastAt = now;
            inBytes += length;
        } else if (channel == Bundles.CHANNEL_CONTROL) {
            ControlCodec.Decoded d = ControlCodec.decode(buf, offset, length);
            switch (d.message()) {
                case ControlMessage.Hello h -> {
                    boardHello = h;
                    helloSeen.countDown();
                }
                case ControlMessage.Keepalive k when !k.isReply() ->
                    sendControl(new ControlMessage.Keepalive(keepaliveSeq++ & 0xFFFFFFFFL, k.seq()));
                case ControlMessage.Error e -> boardError = "error " + e.code() + (e.text() == null ? "" : ": " + e.text());
                case null, default -> {
                }
            }
        }
    }

    @Override
    public void onSent(ByteBuffer bundle) {
        if (!outBundles.contains(bundle))
            return; // a control message
        outInFlight--;
        outBytes += bundle.limit() - Bundles.HEADER_SIZE - Bundles.FRAME_HEADER_SIZE;
        outLastAt = loop.now();
        if (sending)
            sendFiller(bundle);
    }

    @Override
    public void onWritable() {
    }

    @Override
    public void onClosed(String reason) {
        sending = false;
        if (!reason.equals("link test done"))
            boardError = boardError == null ? "link closed: " + reason : boardError;
        loop.cancel(keepaliveTimer);
    }

    @Override
    public void onBadBundle(BundleDrop reason) {
        droppedBundles++;
    }
}
