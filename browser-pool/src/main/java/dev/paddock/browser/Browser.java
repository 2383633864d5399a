package dev.paddock.browser;

/** One browser, for one tenant's one task; closing it wipes it. */
public interface Browser extends AutoCloseable {
  /** The provider that started it. */
  String provider();

  /** Its id, unique on this host. */
  String id();

  @Override
  void close();
}
