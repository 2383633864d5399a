package dev.paddock.sandbox.fs;

/** The type of a workspace entry, from its own inode (a symlink is a {@link #SYMLINK}, never its target's type). */
public enum FileType {
  /** A regular file: the only type that can be read or uploaded. */
  REGULAR,
  /** A directory. */
  DIRECTORY,
  /** A symbolic link; Paddock never follows the last component of a path. */
  SYMLINK,
  /** A FIFO, socket or device node: described by stat and list, removed or renamed, never opened. */
  OTHER
}
