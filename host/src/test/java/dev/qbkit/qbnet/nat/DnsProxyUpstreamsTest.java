// The DNS proxy follows the host's servers: after DnsUpstreams.replace the
// next query goes to the new resolver, failures are reported (so the host's
// configuration is read again), and with no servers the board gets SERVFAIL.
package dev.qbkit.qbnet.nat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

class DnsProxyUpstreamsTest {
    private static final byte[] DNS_ADDRESS = { 10, 113, 98, 3 };
    private static final InetSocketAddress FIRST = new InetSocketAddress("192.0.2.53", 53);
    private static final InetSocketAddress SECOND = new InetSocketAddress("192.0.2.54", 53);

    /** A resolver that answers every A query with one fixed address, or fails. */
    private static final class FixedResolver extends SimpleResolver {
        final String answer;
        final List<Message> queries = new ArrayList<>();

        FixedResolver(InetSocketAddress server, String answer) {
            super(server);
            this.answer = answer;
        }

        @Override
        public CompletionStage<Message> sendAsync(Message query) {
            queries.add(query);
            if (answer == null)
                return CompletableFuture.failedFuture(new IOException("timed out"));
            Message reply = new Message(query.getHeader().getID());
            reply.getHeader().setFlag(Flags.QR);
            reply.addRecord(query.getQuestion(), Section.QUESTION);
            try {
                reply.addRecord(new ARecord(query.getQuestion().getName(), DClass.IN, 60,
                        java.net.InetAddress.getByName(answer)), Section.ANSWER);
            } catch (IOException e) {
                throw new AssertionError(e);
            }
            return CompletableFuture.completedFuture(reply);
        }
    }

    private final ScriptedNat nat = new ScriptedNat();
    private final Map<InetSocketAddress, FixedResolver> resolvers = new HashMap<>();
    private final AtomicInteger failures = new AtomicInteger();

    private DnsUpstreams upstreams(List<InetSocketAddress> servers) {
        DnsUpstreams u = new DnsUpstreams(list -> resolvers.get(list.getFirst()), servers);
        u.setFailureListener(failures::incrementAndGet);
        return u;
    }

    /** Sends an A query for name through the proxy; returns the reply the board got. */
    private Message ask(DnsProxy proxy, String name) throws IOException {
        Message query = Message.newQuery(Record.newRecord(Name.fromString(name + "."), Type.A, DClass.IN));
        byte[] wire = query.toWire();
        proxy.onQuery(ScriptedNat.BOARD, 40000, DNS_ADDRESS, ByteBuffer.wrap(wire), 0, wire.length);
        byte[] packet = nat.sent.poll();
        if (packet == null)
            throw new AssertionError("the board got no answer");
        int ipHeader = (packet[0] & 0x0f) * 4;
        return new Message(java.util.Arrays.copyOfRange(packet, ipHeader + 8, packet.length));
    }

    private static String firstAddress(Message reply) {
        List<Record> answers = reply.getSection(Section.ANSWER);
        return answers.isEmpty() ? null : ((ARecord) answers.getFirst()).getAddress().getHostAddress();
    }

    @Test
    void aReplacedServerListIsUsedFromTheNextQuery() throws IOException {
        resolvers.put(FIRST, new FixedResolver(FIRST, "198.51.100.1"));
        resolvers.put(SECOND, new FixedResolver(SECOND, "198.51.100.2"));
        DnsUpstreams upstreams = upstreams(List.of(FIRST));
        DnsProxy proxy = new DnsProxy(nat, Runnable::run, upstreams);
        assertEquals("198.51.100.1", firstAddress(ask(proxy, "www.qbnet.test")));
        assertTrue(upstreams.replace(List.of(SECOND)), "a new list is a change");
        assertEquals(List.of(SECOND), upstreams.servers());
        assertEquals("198.51.100.2", firstAddress(ask(proxy, "www.qbnet.test")));
        assertEquals(1, resolvers.get(FIRST).queries.size(), "the old server got no query after the swap");
        assertEquals(1, resolvers.get(SECOND).queries.size());
        assertEquals(0, failures.get());
    }

    @Test
    void theSameListIsNoChange() {
        resolvers.put(FIRST, new FixedResolver(FIRST, "198.51.100.1"));
        DnsUpstreams upstreams = upstreams(List.of(FIRST));
        DnsUpstreams.Current before = upstreams.current();
        assertTrue(!upstreams.replace(List.of(FIRST)));
        assertTrue(before == upstreams.current(), "the resolver is kept when nothing changed");
    }

    @Test
    void noServersAnswersServfailAndAsksForAReading() throws IOException {
        DnsUpstreams upstreams = upstreams(List.of());
        assertNull(upstreams.current().resolver());
        DnsProxy proxy = new DnsProxy(nat, Runnable::run, upstreams);
        Message reply = ask(proxy, "www.qbnet.test");
        assertEquals(Rcode.SERVFAIL, reply.getRcode());
        assertEquals(1, failures.get(), "the watcher hears of it");
        assertEquals(1, nat.stats.get(Counter.DNS_FAILURES));
        // The network comes: the next query is answered.
        resolvers.put(FIRST, new FixedResolver(FIRST, "198.51.100.1"));
        upstreams.replace(List.of(FIRST));
        assertEquals("198.51.100.1", firstAddress(ask(proxy, "www.qbnet.test")));
    }

    @Test
    void anUpstreamFailureIsAnsweredServfailAndReported() throws IOException {
        resolvers.put(FIRST, new FixedResolver(FIRST, null));
        DnsProxy proxy = new DnsProxy(nat, Runnable::run, upstreams(List.of(FIRST)));
        assertEquals(Rcode.SERVFAIL, ask(proxy, "www.qbnet.test").getRcode());
        assertEquals(1, failures.get());
        assertEquals(0, proxy.inFlight());
    }
}
