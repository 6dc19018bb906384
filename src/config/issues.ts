/**
 * A configuration problem, located by file and path. Every loader step reports problems as a list of
 * these instead of throwing at the first, so one run shows the user every error.
 */

export interface ConfigIssue {
  /** The file's base name as the user knows it (`webhooks.json`), or an env-var source such as `environment`. */
  readonly file: string;
  /** Path inside the file: `['stripe_relay', 'hmac', 'secret']`, array indices as numbers. */
  readonly path: readonly (string | number)[];
  /** What is wrong, in lower case without a trailing period (`required`, `unknown module 'foo'`). */
  readonly message: string;
}

/** Thrown by the loader when a configuration cannot be used; carries every issue found. */
export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[]) {
    super(`configuration has ${issues.length} error${issues.length === 1 ? '' : 's'}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}
