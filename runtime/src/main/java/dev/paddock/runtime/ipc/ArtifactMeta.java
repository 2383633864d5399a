package dev.paddock.runtime.ipc;

/**
 * A stored artifact's description.
 *
 * @param name        the tool's name for it, unique within its exec
 * @param sizeBytes   content size, bytes
 * @param sha256      SHA-256 of the content, lowercase hex
 * @param contentType MIME type ("application/octet-stream" when the tool gave none)
 */
public record ArtifactMeta(String name, long sizeBytes, String sha256, String contentType) {}
