package dev.paddock.browser;

import java.time.Duration;

/** A browser that answers everything at once with nothing: the tests' stand-in at the Browser seam. */
class StubBrowser implements Browser {
  private final String provider;
  private final String id;
  volatile boolean closed;

  StubBrowser(String provider, String id) {
    this.provider = provider;
    this.id = id;
  }

  @Override
  public String provider() {
    return provider;
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public Navigation navigate(String url, Duration timeout) {
    return new Navigation(url, "", "", 200);
  }

  @Override
  public byte[] screenshot() {
    return new byte[0];
  }

  @Override
  public String text() {
    return "";
  }

  @Override
  public String html() {
    return "";
  }

  @Override
  public Evaluation evaluate(String expression, Duration timeout, int maxResultBytes) {
    return new Evaluation("null", "");
  }

  @Override
  public void click(String selector, int clickCount, Duration timeout) {}

  @Override
  public void type(String selector, String text, boolean clear, Duration keyDelay, Duration timeout) {}

  @Override
  public void fillSecret(String selector, java.util.List<String> origins, String value, Duration timeout) {}

  @Override
  public void close() {
    closed = true;
  }
}
