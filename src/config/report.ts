/**
 * Turning configuration problems into text a user can act on, and zod's issues into {@link ConfigIssue}s.
 *
 * A rendered issue reads `webhooks.json › stripe_relay › hmac.secret: required`: the file, the entry name
 * (the first path segment), then the rest of the path with dots and `[i]` array indices.
 */
import { z } from 'zod';
import type { ConfigIssue } from './issues.js';

type PathSegment = string | number;

/** Keys printed bare after a dot; anything else is quoted (`headers["x.y"]`). */
const BARE_KEY = /^[A-Za-z0-9_$-]+$/;

function renderRest(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (BARE_KEY.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

function renderEntry(segment: PathSegment): string {
  if (typeof segment === 'number') return `[${segment}]`;
  // Entry names are shown as written unless that would be ambiguous or invisible.
  return segment === '' || segment.includes('›') || /[\s\p{Cc}]/u.test(segment)
    ? JSON.stringify(segment)
    : segment;
}

/**
 * One issue as one line: `webhooks.json › x › chain[1].module: unknown module 'foo'`.
 * An empty path gives `webhooks.json: message`.
 */
export function formatIssue(issue: ConfigIssue): string {
  const [entry, ...rest] = issue.path;
  if (entry === undefined) return `${issue.file}: ${issue.message}`;
  const location = rest.length === 0 ? renderEntry(entry) : `${renderEntry(entry)} › ${renderRest(rest)}`;
  return `${issue.file} › ${location}: ${issue.message}`;
}

function compareSegments(a: PathSegment, b: PathSegment): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareIssues(a: ConfigIssue, b: ConfigIssue): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  const length = Math.min(a.path.length, b.path.length);
  for (let i = 0; i < length; i++) {
    const order = compareSegments(a.path[i] as PathSegment, b.path[i] as PathSegment);
    if (order !== 0) return order;
  }
  return a.path.length - b.path.length;
}

/**
 * Every issue, sorted by file then path (stable for equal paths), under a header line:
 *
 * ```text
 * 2 configuration errors:
 *   connections.json › rabbit › port: expected number, got string
 *   webhooks.json › stripe_relay › hmac.secret: required
 * ```
 */
export function formatReport(issues: readonly ConfigIssue[]): string {
  const header = `${issues.length} configuration error${issues.length === 1 ? '' : 's'}:`;
  const lines = [...issues].sort(compareIssues).map((issue) => `  ${formatIssue(issue)}`);
  return [header, ...lines].join('\n');
}

// ---------------------------------------------------------------------------------------------------------
// zod → ConfigIssue

/** zod's own English messages; a message that differs from these was written by the schema's author. */
const zodEnglish = z.locales.en().localeError;
const DEFAULT_INVALID_TYPE = /^Invalid input: expected (\S+), received (\S+)$/;

function isDefaultMessage(issue: z.core.$ZodIssue): boolean {
  if (issue.code === 'invalid_type') return DEFAULT_INVALID_TYPE.test(issue.message);
  const english = zodEnglish(issue as unknown as z.core.$ZodRawIssue);
  const text = typeof english === 'string' ? english : english?.message;
  return issue.message === text || issue.message === 'Invalid input';
}

/** Author-written messages keep their wording, minus a trailing period. */
function ownMessage(message: string): string {
  return message.replace(/\.$/, '');
}

function describeValue(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'bigint' ? `${value}` : JSON.stringify(value);
}

const TYPE_NAMES: Record<string, string> = { int: 'integer', nonoptional: 'a value' };

function typeName(type: string): string {
  return TYPE_NAMES[type] ?? type;
}

/** The type zod saw: from `input` when the caller parsed with `reportInput: true`, else from the message. */
function receivedType(issue: z.core.$ZodIssueInvalidType): string | undefined {
  if ('input' in issue) {
    const input: unknown = issue.input;
    if (input === undefined) return 'undefined';
    if (input === null) return 'null';
    if (Array.isArray(input)) return 'array';
    if (typeof input === 'number' && Number.isNaN(input)) return 'NaN';
    return typeof input;
  }
  return DEFAULT_INVALID_TYPE.exec(issue.message)?.[2];
}

function invalidTypeMessage(issue: z.core.$ZodIssueInvalidType): string {
  const received = receivedType(issue);
  if (received === 'undefined') return 'required';
  if (issue.expected === 'int' && received === 'number') return 'expected an integer';
  const expected = typeName(issue.expected);
  return received === undefined ? `expected ${expected}` : `expected ${expected}, got ${received}`;
}

function plural(count: number | bigint, unit: string): string {
  return `${count} ${unit}${count === 1 || count === 1n ? '' : 's'}`;
}

const SIZE_UNITS: Record<string, string> = {
  string: 'character',
  array: 'item',
  set: 'item',
  map: 'entry',
  file: 'byte',
};

function sizeMessage(issue: z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig): string {
  const small = issue.code === 'too_small';
  const limit = small ? issue.minimum : issue.maximum;
  const unit = SIZE_UNITS[issue.origin];
  if (unit !== undefined) {
    const count = plural(limit, unit).replace(/entrys$/, 'entries');
    if (issue.exact === true) return `must have exactly ${count}`;
    if (small && issue.origin === 'string' && Number(limit) === 1 && issue.inclusive !== false)
      return 'must not be empty';
    if (small)
      return issue.inclusive === false ? `must have more than ${count}` : `must have at least ${count}`;
    return issue.inclusive === false ? `must have fewer than ${count}` : `must have at most ${count}`;
  }
  if (issue.exact === true) return `must be exactly ${limit}`;
  if (small) return `must be ${issue.inclusive === false ? '>' : '>='} ${limit}`;
  return `must be ${issue.inclusive === false ? '<' : '<='} ${limit}`;
}

function formatMessage(issue: z.core.$ZodIssueInvalidStringFormat): string {
  const english = zodEnglish(issue as unknown as z.core.$ZodRawIssue);
  const text = typeof english === 'string' ? english : (english?.message ?? 'invalid format');
  // "Invalid string: must start with ..." → "must start with ..."; "Invalid URL" → "invalid URL".
  const trimmed = text.replace(/^Invalid string: /, '');
  return trimmed.charAt(0).toLowerCase() + trimmed.slice(1);
}

function toPath(path: readonly PropertyKey[]): PathSegment[] {
  return path.map((segment) => (typeof segment === 'symbol' ? String(segment) : segment));
}

/** A type mismatch at the union's own path: the branch did not even get started. */
function failsAtRoot(issues: readonly z.core.$ZodIssue[]): boolean {
  return issues.some((issue) => issue.path.length === 0 && issue.code === 'invalid_type');
}

/** Problems a branch reports, counting each unknown key: the branch with fewest is the closest fit. */
function problemCount(issues: readonly z.core.$ZodIssue[]): number {
  return issues.reduce((n, issue) => n + (issue.code === 'unrecognized_keys' ? issue.keys.length : 1), 0);
}

function unionIssues(issue: z.core.$ZodIssueInvalidUnion, file: string, path: PathSegment[]): ConfigIssue[] {
  if ('options' in issue && Array.isArray(issue.options) && issue.options.length > 0) {
    const options = issue.options.map(describeValue).join(', ');
    const input: unknown = 'input' in issue ? issue.input : undefined;
    const discriminator = issue.discriminator;
    const missing =
      discriminator !== undefined &&
      typeof input === 'object' &&
      input !== null &&
      (input as Record<string, unknown>)[discriminator] === undefined;
    return [
      { file, path, message: missing ? `required (one of: ${options})` : `expected one of: ${options}` },
    ];
  }
  if (issue.inclusive === false) return [{ file, path, message: 'matches more than one allowed form' }];
  const branches = issue.errors.filter((branch) => branch.length > 0);
  if (branches.length === 0) return [{ file, path, message: 'invalid value' }];
  // The closest branch: one that got past the type check, with the fewest problems; the first on a tie.
  const started = branches.filter((branch) => !failsAtRoot(branch));
  const best = started.reduce<z.core.$ZodIssue[] | undefined>(
    (closest, branch) =>
      closest === undefined || problemCount(branch) < problemCount(closest) ? branch : closest,
    undefined,
  );
  if (best === undefined) {
    // No branch got past the type check: say which types would do.
    const rootTypes = branches.flatMap((branch) =>
      branch.filter(
        (i): i is z.core.$ZodIssueInvalidType => i.code === 'invalid_type' && i.path.length === 0,
      ),
    );
    const first = rootTypes[0];
    const received = first === undefined ? undefined : receivedType(first);
    if (received === 'undefined') return [{ file, path, message: 'required' }];
    const expected = [...new Set(rootTypes.map((i) => typeName(i.expected)))].join(' or ');
    return [
      {
        file,
        path,
        message: received === undefined ? `expected ${expected}` : `expected ${expected}, got ${received}`,
      },
    ];
  }
  return convert(best, file, path);
}

function convert(
  issues: readonly z.core.$ZodIssue[],
  file: string,
  prefix: readonly PathSegment[],
): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...toPath(issue.path)];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ file, path: [...path, key], message: `unknown key '${key}'` });
      continue;
    }
    if (issue.code === 'invalid_union' && isDefaultMessage(issue)) {
      out.push(...unionIssues(issue, file, path));
      continue;
    }
    if (issue.code === 'invalid_key' || issue.code === 'invalid_element') {
      const inner = convert(issue.issues, file, []);
      const what = issue.code === 'invalid_key' ? 'invalid key' : 'invalid value';
      if (inner.length === 0) out.push({ file, path, message: what });
      for (const i of inner) out.push({ file, path, message: `${what}: ${i.message}` });
      continue;
    }
    if (!isDefaultMessage(issue)) {
      out.push({ file, path, message: ownMessage(issue.message) });
      continue;
    }
    out.push({ file, path, message: defaultMessage(issue) });
  }
  return out;
}

function defaultMessage(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return invalidTypeMessage(issue);
    case 'invalid_value':
      return issue.values.length === 1
        ? `expected ${describeValue(issue.values[0])}`
        : `expected one of: ${issue.values.map(describeValue).join(', ')}`;
    case 'too_small':
    case 'too_big':
      return sizeMessage(issue);
    case 'invalid_format':
      return formatMessage(issue);
    case 'not_multiple_of':
      return `must be a multiple of ${issue.divisor}`;
    default:
      return 'invalid value';
  }
}

/**
 * Converts a zod 4 error into {@link ConfigIssue}s with short lower-case messages: `required`,
 * `unknown key 'x'` (one per key, the key in the path), `expected one of: a, b`,
 * `expected string, got number`, `must have at least 1 item`; for a union, the issues of the branch that
 * got furthest. Messages written in the schema (`z.string().min(1, 'must not be empty')`) are kept.
 *
 * Parse with `{ reportInput: true }` for the most precise wording; without it the received type is read
 * from zod's default message.
 *
 * @param pathPrefix Prepended to every path, for a schema applied to part of a file (default none).
 */
export function issuesFromZod(
  error: z.ZodError,
  file: string,
  pathPrefix: (string | number)[] = [],
): ConfigIssue[] {
  return convert(error.issues, file, pathPrefix);
}
