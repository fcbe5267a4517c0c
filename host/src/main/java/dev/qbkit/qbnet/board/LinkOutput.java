// Collects everything the host sends a board into bundles: IP packets from
// the NAT and control messages, written in place into pooled buffers and
// handed to the link when full or at the end of each loop round. One packet
// is written at a time; nothing may write while a bundle is being sent. While
// the board is held (its link gone) IP packets go nowhere, except TCP resets,
// kept for the board's return; the link itself can be replaced.
package dev.qbkit.qbnet.board;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;

import dev.qbkit.qbnet.link.BundleBuilder;
import dev.qbkit.qbnet.link.Bundles;
import dev.qbkit.qbnet.link.Link;
import dev.qbkit.qbnet.link.OffloadHeader;
import dev.qbkit.qbnet.nat.Counter;
import dev.qbkit.qbnet.nat.DirectBufferCache;
import dev.qbkit.qbnet.nat.PacketOutput;
import dev.qbkit.qbnet.nat.Stats;
import dev.qbkit.qbnet.packet.IpPacket;
import dev.qbkit.qbnet.packet.IpProtocol;
import dev.qbkit.qbnet.packet.TcpHeader;

public final class LinkOutput implements PacketOutput {
    private static final int SPARE_BUFFERS = 32;
    /** TCP resets kept while the board is held: one per flow that ended meanwhile, up to this many. */
    static final int MAX_HELD_RESETS = 4096;

    /** A frame kept for later: its flags and payload. */
    private record HeldFrame(int flags, byte[] payload) {
    }

    /** The board's link; null while the board is held. */
    private Link link;
    private final Stats stats;
    private final BundleBuilder builder = new BundleBuilder();
    private final DirectBufferCache cache;
    private final ArrayDeque<ByteBuffer> spare = new ArrayDeque<>();
    private int maxBundle = Bundles.INITIAL_MAX;
    private long lastFlushAt;
    private FaultInjection faults = FaultInjection.NONE;
    private boolean offload;
    /** Inside link.send(): a packet begun now would be a write from a link event (doc/DESIGN.md). */
    private boolean sending;
    /** The bundle being built carries a control message: the link takes it into its reserve. */
    private boolean controlInBundle;
    /** The board is held: IP packets are not sent (resets are kept), producers see congestion. */
    private boolean ipHeld;
    private int openFlags;
    private final IpPacket heldParser = new IpPacket();
    private final ArrayDeque<HeldFrame> heldResets = new ArrayDeque<>();

    public LinkOutput(Link link, Stats stats) {
        this(link, stats, DirectBufferCache.SHARED);
    }

    public LinkOutput(Link link, Stats stats, DirectBufferCache cache) {
        this.link = link;
        this.stats = stats;
        this.cache = cache;
    }

    /** Offload is in use when both HELLOs carry CAPS bit 1. */
    public void setOffload(boolean offload) {
        this.offload = offload;
    }

    @Override
    public boolean offload() {
        return offload;
    }

    public void setFaultInjection(FaultInjection faults) {
        this.faults = faults;
    }

    /** The largest bundle the peer accepts, from its HELLO. */
    public void setMaxBundle(int maxBundle) {
        flush();
        if (maxBundle != this.maxBundle)
            giveSpares();
        this.maxBundle = maxBundle;
    }

    public int maxBundle() {
        return maxBundle;
    }

    @Override
    public int begin(int maxLength) {
        return beginFrame(Bundles.CHANNEL_IP, 0, maxLength);
    }

    @Override
    public int beginOffload(int maxLength) {
        return beginFrame(Bundles.CHANNEL_IP, Bundles.FRAME_OFFLOAD, OffloadHeader.SIZE + maxLength) + OffloadHeader.SIZE;
    }

    private int beginFrame(int channel, int flags, int maxLength) {
        assert !sending : "re-entrant write: a packet begun inside link.send() (a link event delivered inside a send)";
        assert !builder.isStarted() || !builder.frameOpen() : "a packet begun while another is still open";
        if (builder.isStarted() && !builder.fits(maxLength))
            flush();
        if (!builder.isStarted()) {
            ByteBuffer buf = spare.poll();
            builder.start(buf != null ? buf : cache.take(maxBundle), maxBundle);
        }
        // Checked after the flush, always: whatever ran meanwhile, no packet is begun where it cannot end.
        if (!builder.fits(maxLength))
            throw new IllegalStateException(maxLength + "-byte frame cannot fit a " + maxBundle + "-byte bundle");
        openFlags = flags;
        return builder.beginFrame(channel, flags);
    }

    @Override
    public void abortPacket() {
        if (builder.isStarted() && builder.frameOpen())
            builder.cancelFrame();
    }

    /** Whether a bundle is being handed to the link right now (a link event must not write then). */
    public boolean isSending() {
        return sending;
    }

    @Override
    public ByteBuffer buffer() {
        return builder.buffer();
    }

    @Override
    public void commit(int length) {
        if (ipHeld) {
            holdPacket(length);
            return;
        }
        if (faults.drop()) {
            builder.cancelFrame();
            stats.inc(Counter.DROP_INJECTED);
            return;
        }
        builder.endFrame(length);
        stats.inc(Counter.FRAMES_TX);
    }

    @Override
    public void commitOffload(int length, int gsoSize, int csumStart, int csumOffset) {
        ByteBuffer b = builder.buffer();
        int header = b.position() + Bundles.FRAME_HEADER_SIZE; // the open frame's payload
        boolean ipv6 = (b.get(header + OffloadHeader.SIZE) & 0xF0) == 0x60;
        int gsoType = gsoSize == 0 ? OffloadHeader.GSO_NONE : ipv6 ? OffloadHeader.GSO_TCPV6 : OffloadHeader.GSO_TCPV4;
        OffloadHeader.write(b, header, OffloadHeader.CSUM_PARTIAL, gsoType, gsoSize, csumStart, csumOffset);
        commit(OffloadHeader.SIZE + length);
    }

    /**
     * A control message for the board, never dropped for data: the bundle it
     * rides in goes to the link with {@link Link#sendPriority}, past the
     * hard limit that refuses data bundles.
     */
    public void sendControl(byte[] payload) {
        int at = beginFrame(Bundles.CHANNEL_CONTROL, 0, payload.length);
        builder.buffer().put(at, payload);
        builder.endFrame(payload.length);
        controlInBundle = true;
        stats.inc(Counter.FRAMES_TX);
    }

    @Override
    public boolean congested() {
        return ipHeld || link == null || link.congested();
    }

    /** Hands the bundle being built, if any, to the link. */
    public void flush() {
        if (!builder.isStarted() || builder.frames() == 0)
            return;
        ByteBuffer bundle = builder.finish();
        int size = bundle.remaining();
        boolean control = controlInBundle;
        controlInBundle = false;
        boolean taken = false;
        Link to = link;
        sending = true;
        try {
            taken = to != null && (control ? to.sendPriority(bundle) : to.send(bundle));
        } finally {
            sending = false;
        }
        if (taken) {
            stats.inc(Counter.BUNDLES_TX);
            stats.add(Counter.BYTES_TX, size);
            lastFlushAt = System.nanoTime();
        } else {
            stats.inc(link == null ? Counter.DROP_LINK_HELD : Counter.DROP_LINK_OVERFLOW);
            recycle(bundle);
        }
    }

    // ---- holding the board (doc/DESIGN.md, "Connections survive an unplug") ----

    /**
     * The link is gone: nothing more goes to it. May be called from inside
     * {@link Link#send} (a link that finds its device gone): the bundle being
     * sent is dropped and counted when that call returns.
     */
    public void detachLink() {
        link = null;
    }

    /** A new link for the same board; IP stays held until {@link #releaseIp}. */
    public void attachLink(Link newLink) {
        link = newLink;
    }

    /**
     * From now on IP packets are not sent: a TCP reset (a flow that ended
     * while the board was away) is kept for its return, anything else is
     * dropped and counted. Producers see a congested link, so flows hold their
     * data and stop reading host sockets at their buffer limits.
     */
    public void holdIp() {
        ipHeld = true;
    }

    public boolean ipHeld() {
        return ipHeld;
    }

    /**
     * The board is back and configured: the resets kept for it go first, then
     * IP flows normally. With {@code deliverResets} false (the board came back
     * with a different configuration, the flows they end are gone anyway) they
     * are dropped.
     */
    public void releaseIp(boolean deliverResets) {
        ipHeld = false;
        for (HeldFrame frame; (frame = heldResets.poll()) != null;) {
            boolean offloadFrame = (frame.flags() & Bundles.FRAME_OFFLOAD) != 0;
            if (!deliverResets || offloadFrame && !offload) {
                stats.inc(Counter.DROP_LINK_HELD);
                continue;
            }
            int at = beginFrame(Bundles.CHANNEL_IP, frame.flags(), frame.payload().length);
            builder.buffer().put(at, frame.payload());
            builder.endFrame(frame.payload().length);
            stats.inc(Counter.FRAMES_TX);
            stats.inc(Counter.TCP_HELD_RESETS);
        }
    }

    /** Resets kept for the board's return (for status and tests). */
    public int heldResets() {
        return heldResets.size();
    }

    /** The open frame is an IP packet while the board is held: keep it if it is a TCP reset, else drop it. */
    private void holdPacket(int length) {
        ByteBuffer b = builder.buffer();
        int payload = b.position() + Bundles.FRAME_HEADER_SIZE;
        int skip = (openFlags & Bundles.FRAME_OFFLOAD) != 0 ? OffloadHeader.SIZE : 0;
        if (heldResets.size() < MAX_HELD_RESETS && isTcpReset(b, payload + skip, length - skip)) {
            byte[] copy = new byte[length];
            b.get(payload, copy);
            heldResets.add(new HeldFrame(openFlags, copy));
        } else {
            stats.inc(Counter.DROP_LINK_HELD);
        }
        builder.cancelFrame();
    }

    private boolean isTcpReset(ByteBuffer b, int at, int length) {
        if (!heldParser.parse(b, at, length) || heldParser.protocol() != IpProtocol.TCP
                || heldParser.payloadLength() < TcpHeader.MIN_LENGTH)
            return false;
        return (b.get(heldParser.payloadOffset() + 13) & TcpHeader.RST) != 0;
    }

    public long lastFlushAt() {
        return lastFlushAt;
    }

    /** The link is done with a buffer. */
    public void recycle(ByteBuffer bundle) {
        if (bundle.capacity() >= maxBundle && spare.size() < SPARE_BUFFERS)
            spare.add(bundle);
        else
            cache.give(bundle);
    }

    /**
     * The session is over: the spare buffers and the bundle being built go to
     * the shared cache for the next board. Bundles the link still holds are
     * not touched; they are left to the GC.
     */
    public void close() {
        controlInBundle = false;
        ByteBuffer unsent = builder.abandon();
        if (unsent != null)
            cache.give(unsent);
        giveSpares();
    }

    private void giveSpares() {
        for (ByteBuffer buffer; (buffer = spare.poll()) != null;)
            cache.give(buffer);
    }
}
