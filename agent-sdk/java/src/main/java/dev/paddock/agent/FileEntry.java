package dev.paddock.agent;

/**
 * One entry of a workspace directory ({@link Agent#listFiles}).
 *
 * @param path path relative to /workspace, {@code "/"} separators
 * @param directory true for a directory
 * @param symlink true for a symbolic link (not followed; then {@code directory} is false)
 * @param sizeBytes size in bytes; 0 for a directory
 * @param mode Unix permission bits, e.g. {@code 0644}
 */
public record FileEntry(
    String path, boolean directory, boolean symlink, long sizeBytes, int mode) {}
