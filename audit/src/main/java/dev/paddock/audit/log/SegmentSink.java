package dev.paddock.audit.log;

import java.io.IOException;
import java.util.List;

/**
 * Where sealed segments go for retention: a second directory, or an object store. A segment is
 * shipped with its checkpoint once it is sealed (never changed again), so a copy is final.
 */
public interface SegmentSink {
  /** Stores {@code sealed} and its checkpoint durably; returns only once both are stored. */
  void ship(Segments.Segment sealed) throws IOException;

  /** The segments stored so far, so a log whose local copies were removed can be read back. */
  List<Segments.Segment> shipped() throws IOException;
}
