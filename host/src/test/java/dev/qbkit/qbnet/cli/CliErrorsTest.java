// Every flag of qbnet run, status, forward, list and link-test given a bad
// value: exactly one error line that names the flag (plus at most the "Try
// --help" line), nothing on stdout, and a non-zero exit. A table, run through
// Main.execute in this JVM. Errors that need a running system: tests/cli-errors.sh.
package dev.qbkit.qbnet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import dev.qbkit.qbnet.Main;

class CliErrorsTest {
    /** One bad command line, the text its error line must contain, and the exit code. */
    record Row(String mustName, int exit, String... args) {
    }

    static final List<Row> ROWS = List.of(
            // qbnet run
            new Row("--link", 2, "run", "--link", "tcp:1.2.3.4"),
            new Row("--link", 2, "run", "--link", "unix:"),
            new Row("--usb-id", 2, "run", "--usb-id", "12345:1"),
            new Row("--usb-id", 2, "run", "--usb-id", "0000:0001"),
            new Row("--usb-id", 2, "run", "--link", "unix:/tmp/qbnet-cli-test.sock", "--usb-id", "1209:0001"),
            new Row("--address", 2, "run", "--address", "10.113.98.2"),
            new Row("--address", 2, "run", "--address", "10.113.98.2/31"),
            new Row("--address", 2, "run", "--address", "10.113.98.999/24"),
            new Row("--address", 2, "run", "--address", "10.113.98.1/24"),
            new Row("--gateway", 2, "run", "--gateway", "300.1.1.1"),
            new Row("--gateway", 2, "run", "--gateway", "gateway.example"),
            new Row("--dns", 2, "run", "--dns", "fd71:6200::3"),
            new Row("--dns-upstream", 2, "run", "--dns-upstream", "dns.example"),
            new Row("--dns-upstream", 2, "run", "--dns-upstream", "1.2.3.999"),
            new Row("--dns-upstream", 2, "run", "--dns-upstream", "1.1.1.1:0"),
            new Row("--dns-upstream", 2, "run", "--dns-upstream", "[::1"),
            new Row("--mtu", 2, "run", "--mtu", "abc"),
            new Row("--mtu", 2, "run", "--mtu", "575"),
            new Row("--mtu", 2, "run", "--mtu", "65536"),
            new Row("--allow-host-loopback", 2, "run", "--allow-host-loopback=maybe"),
            new Row("--no-offload", 2, "run", "--no-offload=1"),
            new Row("--no-ipv6", 2, "run", "--no-ipv6=yes"),
            new Row("--forward", 2, "run", "--forward", "tcp:2222"),
            new Row("--forward", 2, "run", "--forward", "sctp:2222:22"),
            new Row("--forward", 2, "run", "--forward", "tcp:999.1.1.1:2222:22"),
            new Row("--forward", 2, "run", "--forward", "tcp:70000:22"),
            new Row("--allow", 2, "run", "--allow", "10.0.0.0/33"),
            new Row("--allow", 2, "run", "--allow", "intranet"),
            new Row("--deny", 2, "run", "--deny", "1.2.3.999/8"),
            new Row("--deny", 2, "run", "--deny", "fd00::/200"),
            new Row("--test-drop-frames", 2, "run", "--test-drop-frames", "0.9"),
            new Row("--hold", 2, "run", "--hold", "soon"),
            new Row("--hold", 2, "run", "--hold", "-5s"),
            new Row("--hold", 2, "run", "--hold", "2d"),
            new Row("--hold", 2, "run", "--hold", "25h"),
            new Row("--test-drop-frames", 2, "run", "--test-drop-frames", "lots"),
            new Row("--max-tcp-flows", 2, "run", "--max-tcp-flows", "0"),
            new Row("--max-tcp-flows", 2, "run", "--max-tcp-flows", "many"),
            new Row("--max-udp-flows", 2, "run", "--max-udp-flows", "-1"),
            new Row("--max-buffer", 2, "run", "--max-buffer", "0"),
            new Row("--max-buffer", 2, "run", "--max-buffer", "2000000"),
            new Row("--log-level", 2, "run", "--log-level", "loud"),
            new Row("--control", 2, "run", "--control"),
            new Row("--bogus", 2, "run", "--bogus"),
            new Row("--metrics", 2, "run", "--metrics", "0.0.0.0:9464"),
            new Row("--metrics", 2, "run", "--metrics", "localhost:9464"),
            new Row("--metrics", 2, "run", "--metrics", "127.0.0.1:70000"),
            new Row("--metrics-allow-remote", 2, "run", "--metrics-allow-remote"),
            new Row("--config", 2, "run", "--config", "/nonexistent/qbnet-cli-test/qbnet.conf"),
            new Row("extra", 2, "run", "extra"),
            // qbnet status
            new Row("--control", 1, "status", "--control", "/nonexistent/qbnet-cli-test/control.sock"),
            new Row("--json", 2, "status", "--json=pretty"),
            new Row("--gc", 2, "status", "--gc=now"),
            new Row("--interval", 2, "status", "--watch", "--interval", "0.1"),
            new Row("--interval", 2, "status", "--watch", "--interval", "soon"),
            new Row("--prometheus", 2, "status", "--watch", "--prometheus"),
            new Row("--prometheus", 2, "status", "--json", "--prometheus"),
            new Row("--bogus", 2, "status", "--bogus"),
            // qbnet forward
            new Row("add, remove or list", 2, "forward", "frob"),
            new Row("SPEC", 2, "forward", "add"),
            new Row("SPEC", 2, "forward", "remove"),
            new Row("tcp:22", 2, "forward", "add", "tcp:22"),
            new Row("999.1.1.1", 2, "forward", "add", "tcp:999.1.1.1:2222:22"),
            new Row("--control", 1, "forward", "list", "--control", "/nonexistent/qbnet-cli-test/control.sock"),
            new Row("add|remove|list", 2, "forward"),
            // qbnet list
            new Row("--usb-id", 2, "list", "--usb-id", "zz"),
            new Row("--log-level", 2, "list", "--log-level", "chatty"),
            new Row("--log-level", 2, "list", "--log-level"),
            // qbnet link-test
            new Row("--seconds", 2, "link-test", "--seconds", "0"),
            new Row("--seconds", 2, "link-test", "--seconds", "61"),
            new Row("--seconds", 2, "link-test", "--seconds", "x"),
            new Row("--wait", 2, "link-test", "--wait", "-1"),
            new Row("--wait", 2, "link-test", "--wait", "601"),
            new Row("--usb-id", 2, "link-test", "--usb-id", "1209"),
            new Row("--log-level", 2, "link-test", "--log-level", "0"),
            // qbnet itself
            new Row("missing command", 2),
            new Row("frobnicate", 2, "frobnicate"));

    static final List<String> RESULTS = new ArrayList<>();

    @TestFactory
    Stream<DynamicTest> everyBadFlagGetsOneLineThatNamesIt() {
        return ROWS.stream().map(row -> DynamicTest.dynamicTest("qbnet " + String.join(" ", row.args()), () -> {
            PrintStream oldErr = System.err;
            PrintStream oldOut = System.out;
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            int code;
            try {
                System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
                System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
                code = Main.execute(row.args());
            } finally {
                System.setErr(oldErr);
                System.setOut(oldOut);
            }
            List<String> lines = err.toString(StandardCharsets.UTF_8).lines().toList();
            RESULTS.add(String.format("%-62s exit %d  %s", "qbnet " + String.join(" ", row.args()), code,
                    lines.isEmpty() ? "(nothing)" : lines.getFirst()));
            assertEquals(row.exit(), code, "exit code; stderr: " + lines);
            assertEquals("", out.toString(StandardCharsets.UTF_8), "nothing on stdout");
            assertTrue(lines.size() == 1 || lines.size() == 2, "one error line (+ Try --help), got " + lines);
            assertTrue(lines.getFirst().startsWith("qbnet: "), lines.getFirst());
            assertTrue(lines.getFirst().contains(row.mustName()), "the line names " + row.mustName() + ": " + lines.getFirst());
            if (lines.size() == 2)
                assertTrue(lines.get(1).startsWith("Try '") && lines.get(1).contains("--help"), lines.get(1));
        }));
    }

    @AfterAll
    static void printTable() {
        System.out.println("CLI error table (" + RESULTS.size() + " rows):");
        RESULTS.forEach(r -> System.out.println("  " + r));
    }
}
