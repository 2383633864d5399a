/**
 * Host-side file operations on a session's workspace: stat, list, download, upload, mkdir,
 * remove, rename and chmod, safe against the tenant's code changing the workspace at the same
 * moment.
 *
 * <h2>Threat model</h2>
 *
 * The workspace ({@code /workspace} in the jail) is a size-limited tmpfs in the jail's mount
 * namespace. The host, running as root, reaches it through one directory descriptor
 * ({@link dev.paddock.sandbox.fs.WorkspaceRoot}, e.g. {@code /proc/<init>/root/workspace}). The
 * tenant can change anything inside at any moment: plant symlinks to {@code /etc/shadow}, hard
 * links, FIFOs, swap a directory for a symlink between two of the host's syscalls, and build trees
 * deeper than PATH_MAX. The host must never read or write outside the workspace, never block on
 * a FIFO, never follow a symlink out, and never walk tenant trees by path strings.
 *
 * <h2>How</h2>
 *
 * <ul>
 *   <li>Every lookup is {@code openat2} beneath the root (or beneath a directory descriptor
 *       obtained that way) with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV: the
 *       kernel itself refuses absolute symlinks, ".." past the starting directory, /proc magic
 *       links and mount crossings, atomically with the lookup, so a swap between two syscalls
 *       cannot redirect it. Relative symlinks that stay inside are followed in the middle of a
 *       path.
 *   <li>The last component is handled with a *at call relative to its parent's descriptor and
 *       never followed (AT_SYMLINK_NOFOLLOW, O_NOFOLLOW, renameat2 and unlinkat act on the entry
 *       itself).
 *   <li>Files are checked on the descriptor that is then used (fstat after open), never by name
 *       before opening.
 *   <li>Error messages carry the tenant's own workspace-relative path only.
 * </ul>
 *
 * <h2>Decisions</h2>
 *
 * <ul>
 *   <li><b>Hard links.</b> A regular file with {@code st_nlink > 1} is neither read nor chmod-ed
 *       ({@code HARD_LINKED}); stat, list, rename, remove and overwrite-by-upload act on the
 *       directory entry only and stay allowed. In production the workspace is its own tmpfs, so
 *       no link to a file outside can exist (link(2) does not cross mounts); the check defends
 *       against a deployment where the workspace shares a filesystem with host files. The price:
 *       a tenant's own hard-linked files must be copied before they can be downloaded. Uploads
 *       never write into an existing inode (new file, then rename), so they cannot write through
 *       a hard link at all.
 *   <li><b>Descriptor budget.</b> Plain operations hold at most three descriptors. A listing holds
 *       one per level and its depth is capped at {@value dev.paddock.sandbox.fs.WorkspaceFiles#MAX_LIST_DEPTH}.
 *       A recursive removal holds at most 32 directory descriptors whatever the depth: when
 *       it would need more, it renames the too-deep directory up into the directory being
 *       removed and meets it again there. Re-opening from the root by path is not allowed, and
 *       climbing back with ".." would leave the protection of RESOLVE_BENEATH, so neither is used.
 *   <li><b>No fsync.</b> The workspace is a tmpfs, where fsync does nothing, and a workspace never
 *       outlives its host; uploads are atomic by rename, not durable.
 *   <li><b>Ownership.</b> Everything the host creates is chown-ed to the sandbox user through a
 *       descriptor of the new inode (fchown), never by name, so a swapped-in link is never the
 *       thing changed; modes are permission bits only (at most 0777), set with fchmod
 *       regardless of the host's umask. Calls that create an inode or a new name (the upload's
 *       temporary file, mkdirat, renameat2) run with the owner's filesystem ids (setfsuid and
 *       setfsgid on the calling thread only, capabilities kept): the session workspace is a tmpfs
 *       mounted in the jail's user namespace, which maps the sandbox user but not the host's
 *       root, and the kernel refuses (EOVERFLOW) to create anything there for unmapped ids.
 * </ul>
 */
package dev.paddock.sandbox.fs;
