// This qbnet process's instance id, announced in every HELLO (PROTOCOL.md
// section 4, INSTANCE): random, never 0, fixed for the life of the process, so
// a board can tell a restarted host driver from the same one coming back.
package dev.qbkit.qbnet.board;

import java.security.SecureRandom;

public final class HostInstance {
    private static final long ID = pick(new SecureRandom());

    private HostInstance() {
    }

    public static long id() {
        return ID;
    }

    static long pick(SecureRandom random) {
        long id;
        do
            id = random.nextLong();
        while (id == 0);
        return id;
    }
}
