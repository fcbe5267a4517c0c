// The journal's priority prefixes: one per line, from slf4j-simple's level
// word, continuation lines (stack traces, "Try --help") keeping the one
// before, lines split across writes, and a partial line held until its end.
package dev.qbkit.qbnet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

class JournalPriorityStreamTest {
    @Test
    void everyLineGetsItsPriority() throws IOException {
        ByteArrayOutputStream journal = new ByteArrayOutputStream();
        PrintStream err = new PrintStream(new JournalPriorityStream(journal), true, StandardCharsets.UTF_8);
        err.println("INFO HostDriver - waiting for boards on unix:/run/qbnet/link.sock");
        err.println("DEBUG UsbBoards - scan");
        err.println("TRACE TcpFlow - segment");
        err.println("WARN ResolverWatcher - no DNS servers in /etc/resolv.conf yet");
        err.println("ERROR EventLoop - board 1: handler failed");
        err.println("java.lang.IllegalStateException: boom");
        err.println("\tat dev.qbkit.qbnet.loop.EventLoop.run(EventLoop.java:10)");
        err.println("INFO BoardSession - board 1: link down");
        err.println("qbnet: cannot listen on unix:/x: permission denied");
        err.println("Try 'qbnet run --help' for the options.");
        err.print("INFO a line writ");
        assertEquals(false, journal.toString(StandardCharsets.UTF_8).contains("writ"), "the partial line waits for its end");
        err.println("ten in two pieces");
        assertEquals("""
                <6>INFO HostDriver - waiting for boards on unix:/run/qbnet/link.sock
                <7>DEBUG UsbBoards - scan
                <7>TRACE TcpFlow - segment
                <4>WARN ResolverWatcher - no DNS servers in /etc/resolv.conf yet
                <3>ERROR EventLoop - board 1: handler failed
                <3>java.lang.IllegalStateException: boom
                <3>\tat dev.qbkit.qbnet.loop.EventLoop.run(EventLoop.java:10)
                <6>INFO BoardSession - board 1: link down
                <3>qbnet: cannot listen on unix:/x: permission denied
                <3>Try 'qbnet run --help' for the options.
                <6>INFO a line written in two pieces
                """, journal.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aLineWithoutAnEndIsWrittenAtClose() throws IOException {
        ByteArrayOutputStream journal = new ByteArrayOutputStream();
        try (JournalPriorityStream s = new JournalPriorityStream(journal)) {
            s.write("WARN x".getBytes(StandardCharsets.UTF_8));
        }
        assertEquals("<4>WARN x", journal.toString(StandardCharsets.UTF_8));
    }
}
