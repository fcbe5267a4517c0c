// Configures slf4j-simple from the command line before the first logger is
// made: level, timestamps, thread (board) names, output to stderr; under
// systemd's journal, no timestamp (the journal has its own) and a syslog
// priority before each line (JournalPriorityStream).
package dev.qbkit.qbnet.cli;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

public final class Logging {
    private static volatile boolean journal;

    private Logging() {
    }

    /** Stderr is the journal: prefix every line with its priority from now on. Call before anything is logged. */
    public static void toJournal() {
        journal = true;
        System.setErr(new PrintStream(new JournalPriorityStream(new FileOutputStream(FileDescriptor.err)), true,
                StandardCharsets.UTF_8));
    }

    public static void configure(String level) {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", level);
        System.setProperty("org.slf4j.simpleLogger.log.org.xbill", "warn");
        System.setProperty("org.slf4j.simpleLogger.showDateTime", String.valueOf(!journal));
        System.setProperty("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSS");
        System.setProperty("org.slf4j.simpleLogger.showThreadName", "false");
        System.setProperty("org.slf4j.simpleLogger.showShortLogName", "true");
        System.setProperty("org.slf4j.simpleLogger.levelInBrackets", "false");
        System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
    }
}
