/** A data file that is missing, truncated or not what it claims to be; the message names the fix. */
export class DataError extends Error {
  override name = 'DataError';
}
