// Configures slf4j-simple from the command line before the first logger is
// made: level, timestamps, thread (board) names, output to stderr.
package dev.qbkit.qbnet.cli;

public final class Logging {
    private Logging() {
    }

    public static void configure(String level) {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", level);
        System.setProperty("org.slf4j.simpleLogger.log.org.xbill", "warn");
        System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");
        System.setProperty("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSS");
        System.setProperty("org.slf4j.simpleLogger.showThreadName", "false");
        System.setProperty("org.slf4j.simpleLogger.showShortLogName", "true");
        System.setProperty("org.slf4j.simpleLogger.levelInBrackets", "false");
        System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
    }
}
