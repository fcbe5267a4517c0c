// The log rate limit for lines a board's input causes: one per kind every
// 10 s, and the next line counts what was left out.
package dev.qbkit.qbnet.nat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class LogLimiterTest {
    static final long S = 1_000_000_000L;

    @Test
    void oneLinePerKindEveryTenSecondsThenTheCountOfWhatWasLeftOut() {
        LogLimiter l = new LogLimiter();
        assertEquals(0, l.allow("malformed", 100 * S));
        for (int i = 0; i < 1000; i++)
            assertEquals(-1, l.allow("malformed", 100 * S + i * 9_000_000L));
        assertEquals(0, l.allow("config", 101 * S), "kinds are limited apart");
        assertEquals(1000, l.allow("malformed", 110 * S));
        assertEquals(-1, l.allow("malformed", 119 * S));
        assertEquals(1, l.allow("malformed", 125 * S));
        assertEquals(0, l.allow("malformed", 200 * S));
        assertEquals("", LogLimiter.note(0));
        assertEquals(" (1000 more like it in the last 10 s not logged)", LogLimiter.note(1000));
    }
}
