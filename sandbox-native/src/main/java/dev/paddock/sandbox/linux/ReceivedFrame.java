package dev.paddock.sandbox.linux;

import java.util.List;

/**
 * One SEQPACKET record as received.
 *
 * @param data      the record's bytes (a zero-length record has none; a zero-length read at
 *                  end of stream is reported as {@code eof} instead)
 * @param fds       descriptors that arrived with it (SCM_RIGHTS), close-on-exec; the caller owns them
 * @param truncated the record or its descriptors did not fit the limits (MSG_TRUNC / MSG_CTRUNC)
 * @param eof       the peer closed its end; no more records will come
 */
public record ReceivedFrame(byte[] data, List<Fd> fds, boolean truncated, boolean eof) {}
