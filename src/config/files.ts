/**
 * Reading one configuration file: JSON by default, YAML for `.yaml`/`.yml`. Syntax errors carry a
 * line:column, duplicate keys are refused in both formats (a silently overridden duplicate webhook is a
 * classic mistake), and the top level must be an object.
 */
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { parseDocument } from 'yaml';
import type { ConfigIssue } from './issues.js';

/** Larger files are refused: a configuration this big is a mistake (or an attack), not a configuration. */
export const MAX_CONFIG_FILE_BYTES = 10 * 1024 * 1024;

/** Result of {@link readConfigFile}. */
export type ReadConfigResult = { ok: true; data: unknown } | { ok: false; issue: ConfigIssue };

type Path = (string | number)[];

interface Problem {
  readonly message: string;
  readonly path?: Path;
}

/** 1-based line and column (in UTF-16 units) of an offset. */
function lineColumn(text: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line += 1;
    lineStart = i + 1;
  }
  return `line ${line}:${offset - lineStart + 1}`;
}

// ---------------------------------------------------------------------------------------------------------
// JSON: a strict RFC 8259 scanner that finds the first syntax error or duplicate key with its position.
// JSON.parse then builds the value. Iterative, so deep nesting cannot overflow the stack.

interface Frame {
  readonly kind: 'object' | 'array';
  /** Object: first offset of each key seen. */
  readonly keys: Map<string, number>;
  /** The key or index of the value being read in this container. */
  segment: string | number;
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);
const HEX4 = /^[0-9a-fA-F]{4}$/;

class JsonScanError extends Error {
  constructor(
    readonly offset: number,
    readonly detail: string,
    readonly path?: Path,
  ) {
    super(detail);
  }
}

function describeAt(text: string, offset: number): string {
  const char = text[offset];
  if (char === undefined) return 'unexpected end of file';
  return `unexpected ${/[\x21-\x7e]/.test(char) ? `'${char}'` : JSON.stringify(char)}`;
}

/** Returns the first problem, or undefined when `text` is valid JSON without duplicate keys. */
function scanJson(text: string): Problem | undefined {
  let pos = 0;
  const stack: Frame[] = [];

  const skipWhitespace = (): void => {
    while (pos < text.length) {
      const c = text[pos];
      if (c !== ' ' && c !== '\t' && c !== '\n' && c !== '\r') return;
      pos += 1;
    }
  };
  const fail = (detail: string, at = pos, path?: Path): never => {
    throw new JsonScanError(at, detail, path);
  };
  const scanString = (): void => {
    const start = pos;
    pos += 1; // opening quote
    for (;;) {
      const c = text.charCodeAt(pos);
      if (Number.isNaN(c)) fail('unterminated string', start);
      if (c === 0x22) {
        pos += 1;
        return;
      }
      if (c < 0x20) fail(c === 0x0a ? 'unterminated string' : 'control character in string');
      if (c === 0x5c) {
        const escape = text[pos + 1] ?? '';
        if (escape === 'u') {
          if (!HEX4.test(text.slice(pos + 2, pos + 6))) fail('invalid \\u escape in string');
          pos += 6;
          continue;
        }
        if (!ESCAPES.has(escape)) fail('invalid escape in string');
        pos += 2;
        continue;
      }
      pos += 1;
    }
  };

  try {
    let state: 'value' | 'key' | 'after' = 'value';
    for (;;) {
      skipWhitespace();
      const c = text[pos];
      const top = stack[stack.length - 1];
      if (state === 'value') {
        if (c === '{' || c === '[') {
          pos += 1;
          skipWhitespace();
          if (text[pos] === (c === '{' ? '}' : ']')) {
            pos += 1;
            state = 'after';
          } else if (c === '{') {
            stack.push({ kind: 'object', keys: new Map(), segment: '' });
            state = 'key';
          } else {
            stack.push({ kind: 'array', keys: new Map(), segment: 0 });
          }
          continue;
        }
        if (c === '"') scanString();
        else if (c === 't' && text.startsWith('true', pos)) pos += 4;
        else if (c === 'f' && text.startsWith('false', pos)) pos += 5;
        else if (c === 'n' && text.startsWith('null', pos)) pos += 4;
        else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
          NUMBER.lastIndex = pos;
          if (!NUMBER.test(text)) fail('invalid number');
          pos = NUMBER.lastIndex;
        } else fail(describeAt(text, pos));
        state = 'after';
        continue;
      }
      if (state === 'key') {
        if (top === undefined) throw new Error('unreachable: key outside an object');
        if (c === '}') fail('trailing comma before }');
        if (c !== '"') fail(`${describeAt(text, pos)}, expected a property name in double quotes`);
        const start = pos;
        scanString();
        const key = JSON.parse(text.slice(start, pos)) as string;
        const first = top.keys.get(key);
        if (first !== undefined) {
          const path = [...stack.slice(0, -1).map((f) => f.segment), key];
          fail(`first at ${lineColumn(text, first)}`, start, path);
        }
        top.keys.set(key, start);
        top.segment = key;
        skipWhitespace();
        if (text[pos] !== ':') fail(`${describeAt(text, pos)}, expected ':' after the property name`);
        pos += 1;
        state = 'value';
        continue;
      }
      // state === 'after': a value ended
      if (top === undefined) {
        if (pos < text.length) fail(`${describeAt(text, pos)} after the end of the JSON value`);
        return undefined;
      }
      const close = top.kind === 'object' ? '}' : ']';
      if (c === close) {
        pos += 1;
        stack.pop();
      } else if (c === ',') {
        pos += 1;
        if (top.kind === 'object') state = 'key';
        else {
          skipWhitespace();
          if (text[pos] === ']') fail('trailing comma before ]');
          top.segment = (top.segment as number) + 1;
          state = 'value';
        }
      } else {
        fail(`${describeAt(text, pos)}, expected ',' or '${close}'`);
      }
    }
  } catch (error) {
    if (!(error instanceof JsonScanError)) throw error;
    const where = lineColumn(text, error.offset);
    if (error.path !== undefined)
      return { message: `duplicate key at ${where} (${error.detail})`, path: error.path };
    return { message: `invalid JSON at ${where}: ${error.detail}` };
  }
}

function parseJson(text: string): { data: unknown } | Problem {
  const problem = scanJson(text);
  if (problem !== undefined) return problem;
  return { data: JSON.parse(text) as unknown };
}

// ---------------------------------------------------------------------------------------------------------
// YAML

function parseYaml(text: string): { data: unknown } | Problem {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const error = doc.errors[0];
  if (error !== undefined) {
    const at = error.linePos?.[0];
    const where = at === undefined ? '' : ` at line ${at.line}:${at.col}`;
    if (error.code === 'DUPLICATE_KEY') return { message: `duplicate key${where}` };
    // prettyErrors appends " at line L, column C:" and a source excerpt; keep only the sentence.
    const sentence = error.message.replace(/ at line \d+, column \d+:[\s\S]*$/, '');
    return { message: `invalid YAML${where}: ${sentence.charAt(0).toLowerCase()}${sentence.slice(1)}` };
  }
  try {
    return { data: doc.toJS({ maxAliasCount: 100 }) as unknown };
  } catch (cause) {
    // Unresolved or excessive aliases are only found while building the value.
    return { message: `invalid YAML: ${cause instanceof Error ? cause.message : String(cause)}` };
  }
}

// ---------------------------------------------------------------------------------------------------------

function readText(filePath: string): { text: string } | Problem {
  let fd: number;
  try {
    fd = openSync(filePath, 'r');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { message: `file not found: ${filePath}` };
    return { message: `cannot read file ${filePath}: ${code ?? String(cause)}` };
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return { message: `not a regular file: ${filePath}` };
    if (stat.size > MAX_CONFIG_FILE_BYTES) {
      return { message: `file is too large: ${stat.size} bytes (the limit is 10 MiB)` };
    }
    const bytes = readFileSync(fd);
    if (bytes.length > MAX_CONFIG_FILE_BYTES) {
      return { message: `file is too large: ${bytes.length} bytes (the limit is 10 MiB)` };
    }
    try {
      // fatal: refuse invalid UTF-8 rather than invent U+FFFD; a leading BOM is dropped.
      return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
    } catch {
      return { message: 'file is not valid UTF-8' };
    }
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    return { message: `cannot read file ${filePath}: ${code ?? String(cause)}` };
  } finally {
    closeSync(fd);
  }
}

/**
 * Parses configuration text already in memory (an etcd value, a file's contents) with the same rules as
 * {@link readConfigFile}: duplicate keys refused, positions in syntax errors, an object at the top level.
 *
 * @param file Reported as {@link ConfigIssue.file}.
 */
export function parseConfigText(text: string, format: 'json' | 'yaml', file: string): ReadConfigResult {
  const parsed = format === 'yaml' ? parseYaml(text) : parseJson(text);
  if (!('data' in parsed))
    return { ok: false, issue: { file, path: parsed.path ?? [], message: parsed.message } };
  const { data } = parsed;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return { ok: false, issue: { file, path: [], message: 'expected an object at the top level' } };
  }
  return { ok: true, data };
}

/**
 * Reads and parses one configuration file, synchronously.
 *
 * - JSON, or YAML when the name ends in `.yaml`/`.yml` (any case); a UTF-8 BOM is accepted.
 * - Syntax errors: `invalid JSON at line 3:14: expected ',' or '}'` (YAML likewise).
 * - Duplicate keys are refused: `duplicate key at line 12:3 (first at line 4:3)`; JSON issues carry the
 *   key's path, YAML ones only the position.
 * - A missing file gives `file not found: <path>`; the caller decides whether that is allowed.
 * - Files over 10 MiB are refused; the top level must be an object.
 *
 * @param label Reported as {@link ConfigIssue.file}; default the file's base name.
 */
export function readConfigFile(filePath: string, label?: string): ReadConfigResult {
  const file = label ?? basename(filePath);
  const read = readText(filePath);
  if (!('text' in read)) return { ok: false, issue: { file, path: [], message: read.message } };
  const extension = extname(filePath).toLowerCase();
  return parseConfigText(read.text, extension === '.yaml' || extension === '.yml' ? 'yaml' : 'json', file);
}
