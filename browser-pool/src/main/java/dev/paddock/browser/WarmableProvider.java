package dev.paddock.browser;

/** A provider that can start blank browsers before anyone asks for one, for a {@link WarmPool}. */
public interface WarmableProvider extends BrowserProvider {
  /**
   * A blank browser that belongs to nobody yet: no tenant, no task, no way out (its pages could
   * reach nothing until it is claimed, and it loads none).
   */
  Warm startWarm() throws ProviderException;

  /**
   * A warm browser that needs nothing bound at its claim (a remote or container one: its way out is
   * not the host's): handed over as it is.
   */
  static Warm ready(Browser browser, java.util.function.BooleanSupplier alive) {
    return new Warm() {
      private boolean claimed;

      @Override
      public boolean alive() {
        return alive.getAsBoolean();
      }

      @Override
      public synchronized Browser claim(BrowserRequest request) {
        if (claimed) {
          throw new IllegalStateException("a warm browser is claimed once");
        }
        claimed = true;
        return browser;
      }

      @Override
      public void close() {
        browser.close();
      }
    };
  }

  /** A started browser waiting to be claimed. */
  interface Warm extends AutoCloseable {
    /** Still running (a warm browser can die while it waits). */
    boolean alive();

    /**
     * Binds it to {@code request} (its tenant's and task's way out) and hands it over; a warm
     * browser is claimed at most once.
     */
    Browser claim(BrowserRequest request) throws ProviderException;

    @Override
    void close();
  }
}
