// The DNS servers every board's DNS proxy forwards to, and the resolver over
// them, as one value swapped atomically when the host's network changes. A
// query takes the value once, so it never mixes an old list with a new one.
package dev.qbkit.qbnet.nat;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

import org.xbill.DNS.ExtendedResolver;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.SimpleResolver;

public final class DnsUpstreams {
    /** The servers and a resolver over them; {@code resolver} is null exactly when there are no servers. */
    public record Current(List<InetSocketAddress> servers, Resolver resolver) {
    }

    private final Function<List<InetSocketAddress>, Resolver> resolverFactory;
    private final AtomicReference<Current> current = new AtomicReference<>();
    private volatile Runnable failureListener = () -> {
    };

    /** Upstreams over dnsjava resolvers, starting with {@code servers} (may be empty). */
    public static DnsUpstreams of(List<InetSocketAddress> servers) {
        return new DnsUpstreams(DnsUpstreams::resolverFor, servers);
    }

    /** Upstreams whose resolver comes from {@code resolverFactory} (tests: a fake resolver). */
    public DnsUpstreams(Function<List<InetSocketAddress>, Resolver> resolverFactory, List<InetSocketAddress> servers) {
        this.resolverFactory = resolverFactory;
        current.set(make(servers));
    }

    public Current current() {
        return current.get();
    }

    public List<InetSocketAddress> servers() {
        return current.get().servers();
    }

    /**
     * Makes {@code servers} the upstreams of every board from the next query
     * on; queries in flight finish on the old resolver. False (and nothing
     * changes) when the list is the same.
     */
    public synchronized boolean replace(List<InetSocketAddress> servers) {
        if (current.get().servers().equals(servers))
            return false;
        current.set(make(servers));
        return true;
    }

    /** Who hears of failed upstream queries (the resolver watcher: it re-reads the host's configuration). */
    public void setFailureListener(Runnable listener) {
        failureListener = Objects.requireNonNull(listener);
    }

    /** A query failed upstream, or found no servers; called on a board's loop, must not block. */
    public void failed() {
        failureListener.run();
    }

    private Current make(List<InetSocketAddress> servers) {
        List<InetSocketAddress> copy = List.copyOf(servers);
        return new Current(copy, copy.isEmpty() ? null : resolverFactory.apply(copy));
    }

    /** dnsjava's resolver over {@code servers}: 2 s per server, failover across them, 2 retries. */
    static Resolver resolverFor(List<InetSocketAddress> servers) {
        ExtendedResolver resolver = new ExtendedResolver(servers.stream().map(a -> {
            SimpleResolver r = new SimpleResolver(a);
            r.setTimeout(Duration.ofSeconds(2));
            return (Resolver) r;
        }).toList());
        resolver.setRetries(2);
        resolver.setTimeout(Duration.ofSeconds(5));
        return resolver;
    }
}
