package dev.paddock.sandbox;

import java.io.InputStream;

/** A process that ended before it started, e.g. a program not found: empty output, a fixed result. */
public final class FinishedProcess implements SandboxProcess {
  private final SandboxResult result;

  public FinishedProcess(SandboxResult result) {
    this.result = result;
  }

  @Override
  public InputStream stdout() {
    return InputStream.nullInputStream();
  }

  @Override
  public InputStream stderr() {
    return InputStream.nullInputStream();
  }

  @Override
  public SandboxResult await() {
    return result;
  }

  @Override
  public void cancel(String reason) {
    // nothing runs
  }
}
