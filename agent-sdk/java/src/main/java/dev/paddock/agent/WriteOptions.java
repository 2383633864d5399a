package dev.paddock.agent;

/**
 * How {@link Agent#writeFile(String, byte[], WriteOptions)} writes a file. Immutable; start from
 * {@link #DEFAULTS} or {@link #builder()}.
 *
 * @param mode Unix permission bits for a new file, 0 to {@code 07777}; default {@code 0644}. An
 *     existing file that is replaced keeps the mode the host gives it
 * @param makeParents create missing parent directories (mode {@code 0755}); default false, when a
 *     missing parent fails the write with {@link NotFoundException}
 * @param createOnly fail with {@link AlreadyExistsException} if the path exists; default false,
 *     when an existing file is replaced
 */
public record WriteOptions(int mode, boolean makeParents, boolean createOnly) {
  /** Mode {@code 0644}, no parent creation, replace an existing file. */
  public static final WriteOptions DEFAULTS = new WriteOptions(0644, false, false);

  /**
   * Checks the mode.
   *
   * @param mode Unix permission bits for a new file, 0 to {@code 07777}
   * @param makeParents create missing parent directories
   * @param createOnly fail if the path exists
   * @throws IllegalArgumentException if {@code mode} is outside 0 to {@code 07777}
   */
  public WriteOptions {
    if (mode < 0 || mode > 07777) {
      throw new IllegalArgumentException("mode must be 0 to 07777 (octal), not 0" + Integer.toOctalString(mode));
    }
  }

  /**
   * A builder starting from {@link #DEFAULTS}.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /** Builds {@link WriteOptions}; every setting starts at its default. Not thread-safe. */
  public static final class Builder {
    private int mode = DEFAULTS.mode();
    private boolean makeParents = DEFAULTS.makeParents();
    private boolean createOnly = DEFAULTS.createOnly();

    private Builder() {}

    /**
     * Sets the permission bits of a new file.
     *
     * @param mode 0 to {@code 07777}; default {@code 0644}
     * @return this builder
     */
    public Builder mode(int mode) {
      this.mode = mode;
      return this;
    }

    /**
     * Sets whether missing parent directories are created.
     *
     * @param makeParents true to create them (mode {@code 0755}); default false
     * @return this builder
     */
    public Builder makeParents(boolean makeParents) {
      this.makeParents = makeParents;
      return this;
    }

    /**
     * Sets whether an existing path fails the write.
     *
     * @param createOnly true to fail with {@link AlreadyExistsException}; default false (replace)
     * @return this builder
     */
    public Builder createOnly(boolean createOnly) {
      this.createOnly = createOnly;
      return this;
    }

    /**
     * The options.
     *
     * @return the options set so far
     * @throws IllegalArgumentException if the mode is outside 0 to {@code 07777}
     */
    public WriteOptions build() {
      return new WriteOptions(mode, makeParents, createOnly);
    }
  }
}
