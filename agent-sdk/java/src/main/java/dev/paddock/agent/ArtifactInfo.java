package dev.paddock.agent;

/**
 * An artifact the host recorded for this exec ({@link Agent#artifact} and
 * {@link Agent#artifactFromWorkspace}).
 *
 * @param sequence position of the event among this exec's progress and artifact events, from 0
 * @param sizeBytes size of the stored artifact, bytes
 * @param sha256 SHA-256 of the content, 64 lowercase hex digits
 */
public record ArtifactInfo(long sequence, long sizeBytes, String sha256) {}
