package dev.paddock.runtime.session;

/**
 * What the host checks when an exec's output ends: the egress proxy's report of connections that
 * went around it. Called on the exec's pump thread; see {@link ExecRunner#onOutputEnd}.
 */
public interface OutputEndCheck {
  /** Checks nothing. */
  OutputEndCheck NONE = new OutputEndCheck() {
    @Override
    public void beforeResult(Session session) {}

    @Override
    public void afterResult(Session session) {}
  };

  /** For an exec that ran a while: before its result, so that the events it records reach its stream. */
  void beforeResult(Session session);

  /**
   * For a short exec, after its result; runs after every such exec, so it must cost next to
   * nothing (the check itself may come later).
   */
  void afterResult(Session session);
}
