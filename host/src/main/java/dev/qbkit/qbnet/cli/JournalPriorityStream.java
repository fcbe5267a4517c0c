// Under systemd's journal, each line of stderr starts with its syslog
// priority, "<3>" error to "<7>" debug (sd-daemon(3)), read from the level
// word slf4j-simple writes first once Logging leaves the time to the journal.
// A line that starts no log event (a stack trace, the "Try --help" after an
// error) keeps the priority of the line before it; "qbnet: ..." is an error.
package dev.qbkit.qbnet.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

final class JournalPriorityStream extends OutputStream {
    static final int ERR = 3;
    static final int WARNING = 4;
    static final int INFO = 6;
    static final int DEBUG = 7;
    /** A longer line is passed on in pieces, each with the same priority. */
    static final int MAX_LINE = 64 * 1024;

    private final OutputStream out;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private int previous = INFO;

    JournalPriorityStream(OutputStream out) {
        this.out = out;
    }

    /** The priority of a line that starts with {@code start}; {@code previous} for a continuation. */
    static int priority(String start, int previous) {
        if (start.startsWith("ERROR ") || start.startsWith("qbnet: "))
            return ERR;
        if (start.startsWith("WARN "))
            return WARNING;
        if (start.startsWith("INFO "))
            return INFO;
        if (start.startsWith("DEBUG ") || start.startsWith("TRACE "))
            return DEBUG;
        return previous;
    }

    @Override
    public synchronized void write(int b) throws IOException {
        line.write(b);
        if (b == '\n' || line.size() >= MAX_LINE)
            emit();
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) throws IOException {
        for (int i = off; i < off + len; i++)
            write(b[i]);
    }

    private void emit() throws IOException {
        byte[] bytes = line.toByteArray();
        line.reset();
        String start = new String(bytes, 0, Math.min(bytes.length, 8), StandardCharsets.UTF_8);
        previous = priority(start, previous);
        out.write(("<" + previous + ">").getBytes(StandardCharsets.US_ASCII));
        out.write(bytes);
    }

    @Override
    public synchronized void flush() throws IOException {
        out.flush();
    }

    @Override
    public synchronized void close() throws IOException {
        if (line.size() > 0)
            emit();
        out.close();
    }
}
