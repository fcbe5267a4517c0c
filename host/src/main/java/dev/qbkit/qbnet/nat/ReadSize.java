// How much one read of a host socket asks for, learned from the reads before
// it (Netty's adaptive receive size): a request/response flow reads a few
// bytes into one pooled chunk, a download grows to the full read at once.
package dev.qbkit.qbnet.nat;

final class ReadSize {
    /** The smallest guess: one pooled chunk. */
    static final int MIN = BufferPool.CHUNK_SIZE;
    /** The largest: as many chunks as one scattering read takes. */
    static final int MAX = 16 * BufferPool.CHUNK_SIZE;

    private int guess = MIN;

    /** Bytes to ask for now, at most {@code room}. */
    int next(int room) {
        return Math.min(guess, room);
    }

    /**
     * The read asked for {@code asked} bytes and got {@code read}: a full
     * read doubles the next guess, one that filled less than a quarter halves it.
     */
    void record(long read, int asked) {
        if (read >= asked && asked == guess)
            guess = Math.min(MAX, guess * 2);
        else if (read < guess / 4)
            guess = Math.max(MIN, guess / 2);
    }

    int guess() {
        return guess;
    }
}
