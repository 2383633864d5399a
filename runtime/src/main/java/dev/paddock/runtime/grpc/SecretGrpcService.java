package dev.paddock.runtime.grpc;

import com.google.protobuf.Timestamp;
import dev.paddock.ipc.v1.DeleteSecretRequest;
import dev.paddock.ipc.v1.DeleteSecretResponse;
import dev.paddock.ipc.v1.ListSecretsRequest;
import dev.paddock.ipc.v1.ListSecretsResponse;
import dev.paddock.ipc.v1.PutSecretRequest;
import dev.paddock.ipc.v1.RotateSecretKeyRequest;
import dev.paddock.ipc.v1.RotateSecretKeyResponse;
import dev.paddock.ipc.v1.SecretInfo;
import dev.paddock.ipc.v1.SecretServiceGrpc;
import dev.paddock.runtime.vault.Vault;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.time.Instant;

/**
 * SecretService: the caller's tenant's secrets. Values go in and never come out; the audit
 * interceptor records each change (the value is a bytes field, which it never digests).
 */
final class SecretGrpcService extends SecretServiceGrpc.SecretServiceImplBase {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(SecretGrpcService.class);
  private final Vault vault;

  SecretGrpcService(Vault vault) {
    this.vault = vault;
  }

  @Override
  public void putSecret(PutSecretRequest req, StreamObserver<SecretInfo> out) {
    SessionGrpcService.unary(out, () -> {
      byte[] value = req.getValue().toByteArray();
      try {
        return info(io(() -> vault.put(AuthInterceptor.current().tenantId(), req.getName(), value)));
      } finally {
        java.util.Arrays.fill(value, (byte) 0);
      }
    });
  }

  @Override
  public void listSecrets(ListSecretsRequest req, StreamObserver<ListSecretsResponse> out) {
    SessionGrpcService.unary(out, () -> {
      Vault.Listing listing = io(() -> vault.list(AuthInterceptor.current().tenantId()));
      ListSecretsResponse.Builder b = ListSecretsResponse.newBuilder().setDataKeyId(listing.dataKeyId());
      if (listing.dataKeyCreated() != null) {
        b.setDataKeyCreated(timestamp(listing.dataKeyCreated()));
      }
      listing.secrets().forEach(s -> b.addSecrets(info(s)));
      return b.build();
    });
  }

  @Override
  public void deleteSecret(DeleteSecretRequest req, StreamObserver<DeleteSecretResponse> out) {
    SessionGrpcService.unary(out, () -> {
      io(() -> {
        vault.delete(AuthInterceptor.current().tenantId(), req.getName());
        return null;
      });
      return DeleteSecretResponse.getDefaultInstance();
    });
  }

  @Override
  public void rotateSecretKey(RotateSecretKeyRequest req, StreamObserver<RotateSecretKeyResponse> out) {
    SessionGrpcService.unary(out, () -> {
      Vault.Rotation rotation = io(() -> vault.rotate(AuthInterceptor.current().tenantId()));
      return RotateSecretKeyResponse.newBuilder().setDataKeyId(rotation.dataKeyId()).setSecrets(rotation.secrets()).build();
    });
  }

  /** A vault call that may fail on disk. */
  private interface VaultCall<T> {
    T run() throws IOException;
  }

  /** Runs {@code call}; a disk or vault-file failure is logged here and answered INTERNAL, without its paths. */
  private static <T> T io(VaultCall<T> call) {
    try {
      return call.run();
    } catch (IOException e) {
      log.error("vault: {}", e.getMessage(), e);
      throw new dev.paddock.runtime.errors.PaddockException.Internal("the secret store could not be used", e);
    }
  }

  private static SecretInfo info(Vault.SecretInfo s) {
    return SecretInfo.newBuilder().setName(s.name()).setVersion(s.version()).setCreated(timestamp(s.created()))
        .setUpdated(timestamp(s.updated())).setDataKeyId(s.dataKeyId()).build();
  }

  private static Timestamp timestamp(Instant t) {
    return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
  }
}
