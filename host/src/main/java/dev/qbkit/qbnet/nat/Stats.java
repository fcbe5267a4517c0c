// Per-board counters. Written only by the board's loop thread; read by other
// threads through snapshot(), whose values may lag by one loop round.
package dev.qbkit.qbnet.nat;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;

public final class Stats {
    private final AtomicLongArray values = new AtomicLongArray(Counter.values().length);

    public void inc(Counter c) {
        add(c, 1);
    }

    public void add(Counter c, long n) {
        int i = c.ordinal();
        values.lazySet(i, values.get(i) + n);
    }

    public long get(Counter c) {
        return values.get(c.ordinal());
    }

    public Map<Counter, Long> snapshot() {
        Map<Counter, Long> map = new EnumMap<>(Counter.class);
        for (Counter c : Counter.values())
            map.put(c, values.get(c.ordinal()));
        return map;
    }

    public long totalDrops() {
        long sum = 0;
        for (Counter c : Counter.values())
            if (c.isDrop())
                sum += values.get(c.ordinal());
        return sum;
    }
}
