package dev.paddock.client;

import dev.paddock.ipc.v1.DeleteSecretRequest;
import dev.paddock.ipc.v1.DeleteSecretResponse;
import dev.paddock.ipc.v1.ListSecretsRequest;
import dev.paddock.ipc.v1.ListSecretsResponse;
import dev.paddock.ipc.v1.PutSecretRequest;
import dev.paddock.ipc.v1.RotateSecretKeyRequest;
import dev.paddock.ipc.v1.RotateSecretKeyResponse;
import dev.paddock.ipc.v1.SecretInfo;
import dev.paddock.ipc.v1.SecretServiceGrpc;
import java.time.Duration;

/**
 * SecretService: the tenant's secrets (a key with the "secrets" scope). One method per call, taking and answering the API's own messages (see
 * paddock.v1), with the client's deadline, retries and typed exceptions: for callers that want
 * every field (the CLI). {@link dev.paddock.client.Session} and its companions cover the everyday calls.
 */
public final class SecretCalls extends ServiceCalls<SecretServiceGrpc.SecretServiceBlockingStub> {
  SecretCalls(Connection connection) {
    this(connection, connection.deadline());
  }

  private SecretCalls(Connection connection, Duration deadline) {
    super(connection, deadline, SecretServiceGrpc::newBlockingStub);
  }

  /** These calls with another deadline for each unary call; null = none (a call that waits as long as its work). */
  public SecretCalls withDeadline(Duration deadline) {
    return new SecretCalls(connection, deadline);
  }

  /** SecretService.PutSecret. */
  public SecretInfo putSecret(PutSecretRequest request) {
    return connection.call(() -> unary().putSecret(request));
  }

  /** SecretService.ListSecrets. */
  public ListSecretsResponse listSecrets(ListSecretsRequest request) {
    return connection.call(() -> unary().listSecrets(request));
  }

  /** SecretService.DeleteSecret. */
  public DeleteSecretResponse deleteSecret(DeleteSecretRequest request) {
    return connection.call(() -> unary().deleteSecret(request));
  }

  /** SecretService.RotateSecretKey. */
  public RotateSecretKeyResponse rotateSecretKey(RotateSecretKeyRequest request) {
    return connection.call(() -> unary().rotateSecretKey(request));
  }
}
