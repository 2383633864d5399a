package dev.paddock.runtime.grpc;

import dev.paddock.runtime.errors.PaddockException;
import dev.paddock.ipc.v1.AuditServiceGrpc;
import dev.paddock.ipc.v1.BrowserServiceGrpc;
import dev.paddock.ipc.v1.ExecServiceGrpc;
import dev.paddock.ipc.v1.FileServiceGrpc;
import dev.paddock.ipc.v1.SessionServiceGrpc;
import dev.paddock.ipc.v1.TenantServiceGrpc;
import dev.paddock.runtime.tenant.Principal;
import dev.paddock.runtime.tenant.Scope;
import dev.paddock.runtime.tenant.TenantDirectory;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Authenticates every call by API key ({@code authorization: Bearer <key>} or {@code x-api-key})
 * and puts the resulting {@link Principal} in the context. The tenant comes from the key and from
 * nothing else; any failure refuses the call with UNAUTHENTICATED. A key without the scope the
 * service needs ({@link Scope}) is refused with PERMISSION_DENIED naming it. Only health checking
 * and server reflection are open, so probes and stock tools work without a key.
 */
final class AuthInterceptor implements ServerInterceptor {
  private static final Logger log = LoggerFactory.getLogger(AuthInterceptor.class);
  static final Context.Key<Principal> PRINCIPAL = dev.paddock.runtime.audit.AuditContext.PRINCIPAL;
  static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  static final Metadata.Key<String> API_KEY = Metadata.Key.of("x-api-key", Metadata.ASCII_STRING_MARSHALLER);
  private static final Set<String> OPEN_SERVICES = Set.of(
      "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection");

  /** The scope each service needs. */
  private static final Map<String, Scope> SCOPES = Map.of(
      SessionServiceGrpc.SERVICE_NAME, Scope.SESSIONS,
      ExecServiceGrpc.SERVICE_NAME, Scope.EXEC,
      FileServiceGrpc.SERVICE_NAME, Scope.FILES,
      BrowserServiceGrpc.SERVICE_NAME, Scope.BROWSER,
      AuditServiceGrpc.SERVICE_NAME, Scope.AUDIT_READ,
      dev.paddock.ipc.v1.SecretServiceGrpc.SERVICE_NAME, Scope.SECRETS);

  /** Services every valid key may call (each checks finer rights itself). */
  private static final Set<String> ANY_KEY = Set.of(TenantServiceGrpc.SERVICE_NAME);

  private final TenantDirectory tenants;

  AuthInterceptor(TenantDirectory tenants) {
    this.tenants = tenants;
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    if (OPEN_SERVICES.contains(call.getMethodDescriptor().getServiceName())) {
      return next.startCall(call, headers);
    }
    Principal principal;
    try {
      String key = presentedKey(headers);
      Optional<Principal> byCertificate = key == null || key.isBlank() ? certificateCaller(call) : Optional.empty();
      principal = byCertificate.isPresent() ? byCertificate.get() : tenants.authenticate(key);
    } catch (PaddockException e) {
      return ErrorMapper.closeWith(call, e); // counted and logged (bounded) by Denials
    } catch (RuntimeException e) {
      log.error("authentication failed unexpectedly", e);
      return ErrorMapper.closeWith(call, e);
    }
    String service = call.getMethodDescriptor().getServiceName();
    Scope needed = SCOPES.get(service);
    if (!ANY_KEY.contains(service) && (needed == null || !Scope.allows(principal.scopes(), needed))) {
      // A service without a scope here is one nobody may call with a key: fail closed.
      PaddockException denied = new PaddockException.PermissionDenied(needed == null ? Scope.ADMIN.wireName() : needed.wireName());
      // Refused with the caller known, so the denial counts for its tenant.
      Context known = Context.current().withValue(PRINCIPAL, principal);
      Context previous = known.attach();
      try {
        return ErrorMapper.closeWith(call, denied);
      } finally {
        known.detach(previous);
      }
    }
    ServerCall.Listener<ReqT> listener = Contexts.interceptCall(Context.current().withValue(PRINCIPAL, principal), call,
        headers, next);
    String tenant = principal.tenantId();
    // The caller's tenant on every log line the call writes (beside its request id).
    return new io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
      @Override
      public void onMessage(ReqT message) {
        org.slf4j.MDC.put(MDC_TENANT, tenant);
        try {
          super.onMessage(message);
        } finally {
          org.slf4j.MDC.remove(MDC_TENANT);
        }
      }

      @Override
      public void onHalfClose() {
        org.slf4j.MDC.put(MDC_TENANT, tenant);
        try {
          super.onHalfClose();
        } finally {
          org.slf4j.MDC.remove(MDC_TENANT);
        }
      }
    };
  }

  /** The log context key of the caller's tenant. */
  public static final String MDC_TENANT = "tenant";

  /**
   * A caller without a key, over mutual TLS: the verified client certificate's subject, when the
   * tenants file maps it to a tenant. (The TLS layer has checked the certificate against the
   * configured client CA before any call.)
   */
  private Optional<Principal> certificateCaller(ServerCall<?, ?> call) {
    javax.net.ssl.SSLSession ssl = call.getAttributes().get(io.grpc.Grpc.TRANSPORT_ATTR_SSL_SESSION);
    if (ssl == null) {
      return Optional.empty();
    }
    try {
      java.security.cert.Certificate[] chain = ssl.getPeerCertificates();
      if (chain.length > 0 && chain[0] instanceof java.security.cert.X509Certificate x509) {
        return tenants.authenticateCertificate(x509.getSubjectX500Principal().getName());
      }
    } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
      // no client certificate: plain TLS
    }
    return Optional.empty();
  }

  private static String presentedKey(Metadata headers) {
    String authorization = headers.get(AUTHORIZATION);
    if (authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return authorization.substring(7).trim();
    }
    return headers.get(API_KEY);
  }

  /** The authenticated caller of the current call. */
  static Principal current() {
    Principal p = PRINCIPAL.get();
    if (p == null) {
      throw new PaddockException.Unauthenticated("no authenticated caller");
    }
    return p;
  }
}
