package dev.paddock.client;

/**
 * Every call of the host API (paddock.v1), one method each, taking and answering the API's own
 * messages, with the client's deadline, retries and typed exceptions. For callers that need every
 * field and option (the CLI is one); {@link Session} and its companions cover the everyday calls.
 */
public final class Calls {
  private final SessionCalls sessions;
  private final ExecCalls execs;
  private final FileCalls files;
  private final BrowserCalls browsers;
  private final AuditCalls audit;
  private final SecretCalls secrets;
  private final TenantCalls tenants;

  Calls(Connection connection) {
    sessions = new SessionCalls(connection);
    execs = new ExecCalls(connection);
    files = new FileCalls(connection);
    browsers = new BrowserCalls(connection);
    audit = new AuditCalls(connection);
    secrets = new SecretCalls(connection);
    tenants = new TenantCalls(connection);
  }

  public SessionCalls sessions() {
    return sessions;
  }

  public ExecCalls execs() {
    return execs;
  }

  public FileCalls files() {
    return files;
  }

  public BrowserCalls browsers() {
    return browsers;
  }

  public AuditCalls audit() {
    return audit;
  }

  public SecretCalls secrets() {
    return secrets;
  }

  public TenantCalls tenants() {
    return tenants;
  }
}
