// Where the board may go: fixed refusals, the gateway mapping, link-local by
// default, and --allow/--deny rules where the longest prefix wins.
package dev.qbkit.qbnet.nat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.qbkit.qbnet.packet.IpProtocol;

class PolicyTest {
    static byte[] a(String literal) throws Exception {
        return InetAddress.getByName(literal).getAddress();
    }

    static Policy policy(boolean loopback, List<String> allow, List<String> deny) {
        return new Policy(NatConfig.builder().allowHostLoopback(loopback)
                .rules(allow.stream().map(Cidr::parse).toList(), deny.stream().map(Cidr::parse).toList()).build());
    }

    static InetSocketAddress endpoint(Policy p, String destination, int port) throws Exception {
        return p.hostEndpoint(a(destination), port, IpProtocol.TCP, List.of(new InetSocketAddress("127.0.0.53", 53)));
    }

    @Test
    void ordinaryDestinationsPassThrough() throws Exception {
        Policy p = policy(false, List.of(), List.of());
        assertEquals(new InetSocketAddress(InetAddress.getByName("198.51.100.2"), 80), endpoint(p, "198.51.100.2", 80));
        assertEquals(new InetSocketAddress(InetAddress.getByName("fd51:6274::2"), 443), endpoint(p, "fd51:6274::2", 443));
    }

    @Test
    void gatewayIsHostLoopbackOnlyWhenAllowed() throws Exception {
        assertNull(endpoint(policy(false, List.of(), List.of()), "10.113.98.1", 22));
        assertEquals(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 22),
                endpoint(policy(true, List.of(), List.of()), "10.113.98.1", 22));
        assertEquals(new InetSocketAddress(InetAddress.getByName("::1"), 22),
                endpoint(policy(true, List.of(), List.of()), "fd71:6200::1", 22));
    }

    @Test
    void loopbackMulticastBroadcastAndUnspecifiedAreNeverReached() throws Exception {
        Policy p = policy(true, List.of("0.0.0.0/0", "::/0"), List.of());
        for (String d : List.of("127.0.0.1", "::1", "224.0.0.1", "255.255.255.255", "0.0.0.0", "ff02::1", "::"))
            assertNull(endpoint(p, d, 80), d);
    }

    @Test
    void linkLocalIsRefusedUnlessAllowed() throws Exception {
        assertNull(endpoint(policy(false, List.of(), List.of()), "169.254.169.254", 80));
        assertNull(endpoint(policy(false, List.of(), List.of()), "fe80::1", 80));
        assertNotNull(endpoint(policy(false, List.of("169.254.0.0/16"), List.of()), "169.254.169.254", 80));
    }

    @Test
    void longestPrefixWinsAndTiesDeny() throws Exception {
        Policy onlyTestNet = policy(false, List.of("198.51.100.0/24"), List.of("0.0.0.0/0"));
        assertNotNull(endpoint(onlyTestNet, "198.51.100.9", 80));
        assertNull(endpoint(onlyTestNet, "192.0.2.1", 80));
        Policy allButOne = policy(false, List.of(), List.of("198.51.100.7/32"));
        assertNull(endpoint(allButOne, "198.51.100.7", 80));
        assertNotNull(endpoint(allButOne, "198.51.100.8", 80));
        Policy tie = policy(false, List.of("10.0.0.0/8"), List.of("10.0.0.0/8"));
        assertNull(endpoint(tie, "10.1.2.3", 80));
    }

    @Test
    void dnsOverTcpGoesToTheFirstUpstream() throws Exception {
        Policy p = policy(false, List.of(), List.of());
        assertEquals(new InetSocketAddress("127.0.0.53", 53), endpoint(p, "10.113.98.3", 53));
        assertNull(endpoint(p, "10.113.98.3", 80));
    }

    @Test
    void cidrParsingNamesTheProblem() {
        assertEquals("10.0.0.0/8", Cidr.parse("10.1.2.3/8").toString());
        assertEquals(128, Cidr.parse("fd00::1").prefixLength());
        assertThrows(IllegalArgumentException.class, () -> Cidr.parse("10.0.0.0/33"));
        assertThrows(IllegalArgumentException.class, () -> Cidr.parse("example.com/8"));
        assertThrows(IllegalArgumentException.class, () -> Cidr.parse("10.0.0.0/x"));
    }
}
