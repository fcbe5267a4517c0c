// The board's resolver: DNS queries to the virtual DNS address are parsed and
// sent on to the host's current DNS servers (DnsUpstreams, dnsjava), and the
// answer comes back from the virtual address. Bad queries are dropped and
// counted; upstream failures are answered SERVFAIL (and reported, so the
// host's resolver configuration is read again), so the board never waits in vain.
// Answers wait while the link toward the board is congested.
package dev.qbkit.qbnet.nat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.Executor;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Section;

import dev.qbkit.qbnet.packet.IpWriter;

public final class DnsProxy {
    private static final Logger log = LoggerFactory.getLogger(DnsProxy.class);
    private static final int UDP_MIN = 512;

    private final NatContext ctx;
    private final Executor loop;
    private final DnsUpstreams upstreams;
    private int inFlight;
    private boolean closed;
    private boolean warnedNoServers;

    public DnsProxy(NatContext ctx, Executor loop, DnsUpstreams upstreams) {
        this.ctx = ctx;
        this.loop = loop;
        this.upstreams = upstreams;
    }

    public int inFlight() {
        return inFlight;
    }

    public void close() {
        closed = true;
        held.clear();
    }

    public void onQuery(byte[] boardAddress, int boardPort, byte[] dnsAddress, ByteBuffer buf, int offset, int length) {
        if (inFlight >= ctx.config().maxDnsInFlight()) {
            ctx.limitHit(Counter.DROP_DNS_LIMIT, inFlight + " DNS queries from the board are already waiting "
                    + "for the upstream servers or for room on the link: further queries are dropped until answers come");
            return;
        }
        Message query;
        try {
            ByteBuffer payload = buf.duplicate();
            payload.limit(offset + length).position(offset);
            query = new Message(payload);
        } catch (IOException | RuntimeException e) {
            ctx.stats().inc(Counter.DROP_DNS_MALFORMED);
            return;
        }
        if (query.getHeader().getFlag(Flags.QR) || query.getQuestion() == null) {
            ctx.stats().inc(Counter.DROP_DNS_MALFORMED);
            return;
        }
        ctx.stats().inc(Counter.DNS_QUERIES);
        int maxSize = replyLimit(query, boardAddress.length == 16);
        DnsUpstreams.Current upstream = upstreams.current();
        if (upstream.resolver() == null) {
            upstreams.failed();
            if (!warnedNoServers) {
                warnedNoServers = true;
                log.warn("the host's resolver configuration lists no DNS servers; answering SERVFAIL "
                        + "(set them in the OS, or pass --dns-upstream)");
            }
            reply(query, null, boardAddress, boardPort, dnsAddress, maxSize, false);
            return;
        }
        inFlight++;
        upstream.resolver().sendAsync(query).whenComplete((response, error) -> loop.execute(() -> {
            if (error != null) {
                log.debug("DNS {} failed upstream: {}", query.getQuestion(), error.toString());
                upstreams.failed();
            }
            reply(query, error == null ? response : null, boardAddress, boardPort, dnsAddress, maxSize, true);
        }));
    }

    /** An answer for the board, and whether it counts against the queries in flight until written. */
    private record Answer(byte[] wire, byte[] dnsAddress, byte[] boardAddress, int boardPort, boolean inFlight) {
    }

    /** @param counted the query counts against the queries in flight until its answer is written */
    private void reply(Message query, Message response, byte[] boardAddress, int boardPort, byte[] dnsAddress,
            int maxSize, boolean counted) {
        if (closed) {
            if (counted)
                inFlight--;
            return;
        }
        Message answer = response != null ? response : serverFailure(query);
        if (response == null)
            ctx.stats().inc(Counter.DNS_FAILURES);
        answer.getHeader().setID(query.getHeader().getID());
        Answer a = new Answer(answer.toWire(maxSize), dnsAddress, boardAddress, boardPort, counted);
        if (held.isEmpty() && !ctx.output().congested()) {
            write(a);
            return;
        }
        // The link is congested: held, in order, until it has room; bounded by the queries in flight.
        held.add(a);
        ctx.stats().inc(Counter.DNS_ANSWERS_HELD);
        ctx.linkWaiters().add(heldAnswers);
    }

    private void write(Answer a) {
        if (a.inFlight())
            inFlight--;
        UdpTable.writeDatagram(ctx, a.dnsAddress(), 53, a.boardAddress(), a.boardPort(), ByteBuffer.wrap(a.wire()));
    }

    /** Answers held while the link was congested, written when it has room again. */
    private final java.util.ArrayDeque<Answer> held = new java.util.ArrayDeque<>();
    private final LinkWaiters.Waiter heldAnswers = new LinkWaiters.Waiter() {

        @Override
        public boolean resume() {
            while (!closed && !held.isEmpty() && !ctx.output().congested())
                write(held.poll());
            if (!closed && !held.isEmpty())
                ctx.linkWaiters().add(this);
            return !held.isEmpty();
        }

        @Override
        public void failed(RuntimeException cause) {
            held.poll(); // the answer that could not be written is dropped; the board asks again
            inFlight = Math.max(0, inFlight - 1);
        }
    };

    private static Message serverFailure(Message query) {
        Message m = new Message(query.getHeader().getID());
        m.getHeader().setFlag(Flags.QR);
        m.getHeader().setFlag(Flags.RA);
        if (query.getHeader().getFlag(Flags.RD))
            m.getHeader().setFlag(Flags.RD);
        m.getHeader().setRcode(Rcode.SERVFAIL);
        m.addRecord(query.getQuestion(), Section.QUESTION);
        return m;
    }

    /** The UDP payload limit the query allows (EDNS0 or 512), within the link MTU. */
    private int replyLimit(Message query, boolean ipv6) {
        OPTRecord opt = query.getOPT();
        int requested = opt == null ? UDP_MIN : Math.max(UDP_MIN, opt.getPayloadSize());
        int linkLimit = ctx.config().mtu() - IpWriter.headerLength(ipv6) - UdpTable.HEADER;
        return Math.min(requested, linkLimit);
    }
}
