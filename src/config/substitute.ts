/**
 * Environment-variable substitution in configuration values (`{$VAR}`), applied to string values only,
 * never to keys.
 *
 * Forms (`NAME` is `[A-Za-z_][A-Za-z0-9_]*`):
 *
 * - `{$NAME}` — the variable's value. Unset → issue `environment variable NAME is not set`. A variable set
 *   to the empty string counts as set.
 * - `{$NAME:default}` — the default when unset (may be empty). When this is the WHOLE string the default may
 *   contain any character, `}` and `:` included (`"{$PASS:a}b:c}"` → `a}b:c`), as long as it contains no
 *   `{$` (then the string is read as several embedded references).
 * - Embedded in a longer string: `"http://{$HOST:localhost}:{$PORT}/x"`; here a default ends at the first `}`.
 * - `{$$` is the escape: it stands for a literal `{$`, so `"{$$X}"` gives `"{$X}"` and `"{$$$X}"` gives `"{$$X}"`.
 * - `{$vault:...}` is reported: `vault references are not supported`.
 * - Any other `{$` (`{$1X}`, an unclosed `{$HOST`) is reported as a malformed reference.
 *
 * Values are substituted verbatim: never trimmed, never sanitised, never substituted again. Results are
 * strings; numbers, booleans and null pass through untouched. The result is a new structure; the input is
 * not mutated. A value with a problem is left as written and every problem is reported.
 */
import type { ConfigIssue } from './issues.js';

type Env = Readonly<Record<string, string | undefined>>;
type Path = (string | number)[];

/** Containers nested deeper than this are reported instead of walked. */
const MAX_DEPTH = 100;

const WHOLE = /^\{\$([A-Za-z_][A-Za-z0-9_]*)(?::([\s\S]*))?\}$/;
// One token at a time: the escape, a reference with an optional default, or a stray `{$`.
const TOKEN = /\{\$(\$)|\{\$([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}|\{\$/g;

/** Own properties only: `{$constructor}` must not find `Object.prototype.constructor`. */
function lookup(env: Env, name: string): string | undefined {
  if (!Object.prototype.hasOwnProperty.call(env, name)) return undefined;
  const value = env[name];
  return typeof value === 'string' ? value : undefined;
}

interface StringResult {
  readonly value: string;
  readonly problems: string[];
}

function resolve(env: Env, name: string, fallback: string | undefined, problems: string[]): string {
  if (name === 'vault' && fallback !== undefined) {
    problems.push('vault references are not supported');
    return '';
  }
  const value = lookup(env, name) ?? fallback;
  if (value === undefined) {
    const message = `environment variable ${name} is not set`;
    if (!problems.includes(message)) problems.push(message);
    return '';
  }
  return value;
}

function substituteString(text: string, env: Env): StringResult {
  if (!text.includes('{$')) return { value: text, problems: [] };
  const problems: string[] = [];
  const whole = WHOLE.exec(text);
  if (whole !== null && !(whole[2] ?? '').includes('{$')) {
    const value = resolve(env, whole[1] as string, whole[2], problems);
    return { value: problems.length === 0 ? value : text, problems };
  }
  const value = text.replace(
    TOKEN,
    (
      match: string,
      escape: string | undefined,
      name: string | undefined,
      fallback: string | undefined,
      at: number,
    ) => {
      if (escape !== undefined) return '{$';
      if (name !== undefined) return resolve(env, name, fallback, problems);
      const preview = text.slice(at, at + 20);
      problems.push(`malformed variable reference near '${preview}' (write {$$ for a literal {$)`);
      return match;
    },
  );
  return { value: problems.length === 0 ? value : text, problems };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function walk(
  value: unknown,
  env: Env,
  file: string,
  path: Path,
  ancestors: Set<object>,
  issues: ConfigIssue[],
): unknown {
  if (typeof value === 'string') {
    const result = substituteString(value, env);
    for (const message of result.problems) issues.push({ file, path: [...path], message });
    return result.value;
  }
  if (!Array.isArray(value) && !isPlainObject(value)) return value;
  if (ancestors.has(value)) {
    issues.push({ file, path: [...path], message: 'circular reference' });
    return undefined;
  }
  if (path.length >= MAX_DEPTH) {
    issues.push({ file, path: [...path], message: `nested deeper than ${MAX_DEPTH} levels` });
    return value;
  }
  ancestors.add(value);
  let out: unknown;
  if (Array.isArray(value)) {
    out = value.map((item, index) => walk(item, env, file, [...path, index], ancestors, issues));
  } else {
    // Same prototype as the input (plain or null); defineProperty keeps a `__proto__` key a key.
    const copy = Object.create(Object.getPrototypeOf(value) as object | null) as Record<string, unknown>;
    for (const [key, item] of Object.entries(value)) {
      const walked = walk(item, env, file, [...path, key], ancestors, issues);
      Object.defineProperty(copy, key, {
        value: walked,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    out = copy;
  }
  ancestors.delete(value);
  return out;
}

/**
 * Replaces `{$NAME}`, `{$NAME:default}` and embedded references in every string value of `value`
 * (see the module comment for the forms and the `{$$` escape).
 *
 * @param value Parsed configuration (objects, arrays, scalars); not mutated.
 * @param env Variables to read, usually `process.env`; only own properties count.
 * @param file Reported as {@link ConfigIssue.file}.
 * @returns A new structure and every problem found, each at the path of the string that has it.
 */
export function substituteVariables(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  file: string,
): { value: unknown; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const result = walk(value, env, file, [], new Set(), issues);
  return { value: result, issues };
}
