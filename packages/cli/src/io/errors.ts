/** A problem the user can fix (bad config, unknown name, unwritable directory): one line, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * A file that is truncated or not what its writer wrote (a full disk, a broken copy, a hand
 * edit): the message names the file, what is wrong and, where given, what to do.
 */
export class DamagedFileError extends UsageError {
  override name = 'DamagedFileError';

  constructor(
    readonly file: string,
    readonly reason: string,
    remedy?: string,
  ) {
    super(`${file} is damaged (${reason})${remedy ? `; ${remedy}` : ''}`);
  }
}
