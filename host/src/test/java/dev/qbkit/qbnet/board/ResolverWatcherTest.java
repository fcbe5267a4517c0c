// The resolver watcher swaps every board's upstreams when the host's servers
// change, keeps them when a reading fails, and lets failed queries ask for a
// reading at most every 5 s.
package dev.qbkit.qbnet.board;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.qbkit.qbnet.nat.DnsUpstreams;
import dev.qbkit.qbnet.platform.HostResolvers;

class ResolverWatcherTest {
    @TempDir
    Path dir;

    private final AtomicLong clock = new AtomicLong(1_000_000_000_000L);
    private final DnsUpstreams upstreams = DnsUpstreams.of(List.of());

    private static InetSocketAddress dns(String address) {
        return new InetSocketAddress(address, 53);
    }

    @Test
    void followsTheFileFromNoNetworkToAChangeAndBack() throws IOException {
        Path file = dir.resolve("resolv.conf");
        ResolverWatcher watcher = new ResolverWatcher(new HostResolvers.ResolvConf(file), upstreams, clock::get);
        assertFalse(watcher.check(), "started before the network: no servers, nothing to change");
        assertEquals(List.of(), upstreams.servers());
        Files.writeString(file, "nameserver 192.0.2.1\n");
        assertTrue(watcher.check(), "the network came");
        assertEquals(List.of(dns("192.0.2.1")), upstreams.servers());
        assertFalse(watcher.check(), "nothing changed");
        Files.writeString(file, "# VPN up\nnameserver 192.0.2.1\n");
        assertFalse(watcher.check(), "a new comment, the same servers: no swap");
        Files.writeString(file, "nameserver 192.0.2.7\nnameserver 192.0.2.8\n");
        assertTrue(watcher.check(), "Wi-Fi changed");
        assertEquals(List.of(dns("192.0.2.7"), dns("192.0.2.8")), upstreams.servers());
        Files.delete(file);
        assertTrue(watcher.check(), "the network went");
        assertEquals(List.of(), upstreams.servers());
    }

    @Test
    void aFailedReadingKeepsTheServers() {
        boolean[] broken = { false };
        HostResolvers.Source source = new HostResolvers.Source() {
            @Override
            public Object read() throws IOException {
                if (broken[0])
                    throw new java.nio.file.AccessDeniedException("/etc/resolv.conf");
                return "x";
            }

            @Override
            public List<InetSocketAddress> servers(Object reading) {
                return List.of(dns("192.0.2.1"));
            }

            @Override
            public String describe() {
                return "test";
            }
        };
        ResolverWatcher watcher = new ResolverWatcher(source, upstreams, clock::get);
        assertTrue(watcher.check());
        broken[0] = true;
        assertFalse(watcher.check());
        assertEquals(List.of(dns("192.0.2.1")), upstreams.servers());
    }

    @Test
    void failedQueriesAskForAReadingAtMostEveryFiveSeconds() {
        ResolverWatcher watcher = new ResolverWatcher(new HostResolvers.ResolvConf(dir.resolve("r")), upstreams,
                clock::get);
        assertTrue(watcher.onFailure(), "the first failure reads at once");
        assertFalse(watcher.onFailure(), "the next ones within 5 s do not");
        clock.addAndGet(ResolverWatcher.FAILURE_REREAD_NANOS - 1);
        assertFalse(watcher.onFailure());
        clock.addAndGet(1);
        assertTrue(watcher.onFailure(), "5 s later a failure reads again");
    }

    @Test
    void aRunningWatcherSwapsWithinItsInterval() throws Exception {
        Path file = Files.writeString(dir.resolve("resolv.conf"), "nameserver 192.0.2.1\n");
        try (ResolverWatcher watcher = new ResolverWatcher(new HostResolvers.ResolvConf(file), upstreams,
                System::nanoTime)) {
            watcher.check();
            watcher.start(Duration.ofMillis(20));
            Files.writeString(file, "nameserver 192.0.2.2\n");
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (!upstreams.servers().equals(List.of(dns("192.0.2.2"))) && System.nanoTime() < deadline)
                Thread.sleep(10);
            assertEquals(List.of(dns("192.0.2.2")), upstreams.servers());
        }
    }
}
