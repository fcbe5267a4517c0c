// Follows the host's DNS servers for every board: reads the resolver
// configuration again every few seconds and soon after a failed query (at
// most every 5 s), and swaps the boards' upstreams when the servers change.
// Runs on its own daemon thread; a reading never blocks a board's loop.
package dev.qbkit.qbnet.board;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.qbkit.qbnet.nat.DnsUpstreams;
import dev.qbkit.qbnet.platform.HostResolvers;

public final class ResolverWatcher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ResolverWatcher.class);
    /** Failed queries make a reading at most this often (a dead network fails every query). */
    static final long FAILURE_REREAD_NANOS = 5_000_000_000L;

    private final HostResolvers.Source source;
    private final DnsUpstreams upstreams;
    private final LongSupplier nanoClock;
    private final AtomicLong lastFailureReading;
    private Object lastReading;
    private boolean read;
    private String lastError;
    private ScheduledExecutorService executor;

    public ResolverWatcher(HostResolvers.Source source, DnsUpstreams upstreams, LongSupplier nanoClock) {
        this.source = source;
        this.upstreams = upstreams;
        this.nanoClock = nanoClock;
        this.lastFailureReading = new AtomicLong(nanoClock.getAsLong() - FAILURE_REREAD_NANOS);
    }

    /**
     * Reads the configuration and swaps the upstreams if their servers
     * changed; true when they did. A reading that fails (permission denied)
     * keeps the servers there are.
     */
    public synchronized boolean check() {
        Object reading;
        try {
            reading = source.read();
            lastError = null;
        } catch (IOException | RuntimeException e) {
            String error = e.toString();
            if (!error.equals(lastError))
                log.warn("cannot read the host's DNS servers from {}: {}; the boards keep {}", source.describe(),
                        error, describe(upstreams.servers()));
            lastError = error;
            return false;
        }
        if (read && Objects.equals(reading, lastReading))
            return false;
        boolean first = !read;
        read = true;
        lastReading = reading;
        List<InetSocketAddress> servers = source.servers(reading);
        List<InetSocketAddress> before = upstreams.servers();
        boolean changed = upstreams.replace(servers);
        if (first && servers.isEmpty())
            log.warn("no DNS servers in {} yet: the boards' DNS queries are answered SERVFAIL until there are "
                    + "(qbnet follows it), or pass --dns-upstream", source.describe());
        else if (first)
            log.info("DNS for boards goes to {} (from {}, followed as it changes)", describe(servers), source.describe());
        else if (changed && servers.isEmpty())
            log.warn("{} lists no DNS servers any more: the boards' DNS queries are answered SERVFAIL until it does",
                    source.describe());
        else if (changed)
            log.info("DNS for boards now goes to {} (was {}; from {})", describe(servers), describe(before),
                    source.describe());
        return changed;
    }

    /** Reads every {@code interval} from now on, on a daemon thread. */
    public void start(Duration interval) {
        executor = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().daemon().name("dns-watch")
                .unstarted(r));
        long ms = interval.toMillis();
        executor.scheduleWithFixedDelay(this::checkQuietly, ms, ms, TimeUnit.MILLISECONDS);
        upstreams.setFailureListener(this::onFailure);
    }

    /**
     * A board's query failed: read again soon, unless a failure did so in
     * the last 5 s; true when a reading was asked for. Never blocks.
     */
    boolean onFailure() {
        long now = nanoClock.getAsLong();
        long last = lastFailureReading.get();
        if (now - last < FAILURE_REREAD_NANOS || !lastFailureReading.compareAndSet(last, now))
            return false;
        ScheduledExecutorService e = executor;
        if (e != null && !e.isShutdown())
            e.execute(this::checkQuietly);
        return true;
    }

    private void checkQuietly() {
        try {
            check();
        } catch (RuntimeException e) {
            log.warn("reading the host's DNS servers failed: {}", e.toString());
        }
    }

    static String describe(List<InetSocketAddress> servers) {
        if (servers.isEmpty())
            return "no servers";
        return String.join(", ", servers.stream().map(a -> (a.getAddress() instanceof java.net.Inet6Address
                ? "[" + a.getAddress().getHostAddress() + "]" : a.getAddress().getHostAddress()) + ":" + a.getPort())
                .toList());
    }

    @Override
    public void close() {
        if (executor != null)
            executor.shutdownNow();
    }
}
