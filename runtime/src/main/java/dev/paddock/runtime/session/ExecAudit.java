package dev.paddock.runtime.session;

/**
 * Where the exec lifecycle is recorded: a record before the process is spawned (nothing runs
 * unrecorded) and one after it ended, before anyone is told how.
 */
public interface ExecAudit {
  /** Records nothing: for tests of the session layer alone. */
  ExecAudit NONE = new ExecAudit() {
    @Override
    public void starting(Session session, String execId, ExecSpec spec) {}

    @Override
    public void finished(Session session, ExecRecord record, ExecRecord.Outcome outcome) {}
  };

  /**
   * Called before {@code execId} is spawned, on the caller's thread; returns once the record is
   * durable.
   *
   * @throws dev.paddock.runtime.errors.PaddockException UNAVAILABLE / AUDIT_WRITE_FAILED when it is
   *     not: the exec is then not started
   */
  void starting(Session session, String execId, ExecSpec spec);

  /**
   * Called once the exec ended and its output drained, before its outcome is published; returns
   * once the record is durable (or its write failed, which the audit log reports and which makes
   * every later action refuse).
   */
  void finished(Session session, ExecRecord record, ExecRecord.Outcome outcome);

  /**
   * A secret goes into {@code execId} as the variable {@code env}; called before {@link #starting},
   * whose durability covers it (the log is written in order). Never given the value.
   */
  default void credentialUsed(Session session, String execId, String secret, String env) {}
}
