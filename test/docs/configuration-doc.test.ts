/**
 * Keeps docs/configuration.md in step with the configuration schemas: every server setting, every
 * webhooks.json entry key and every key of `retry`, `chain` items, `chain-config`, `credential_cleanup`,
 * `rate_limit` and connections.json entries must have a row in the table of its section — and every row
 * must name a key that exists. Documented defaults must match the schemas' defaults, and each setting's
 * flag must match SERVE_FLAGS. Adding a key to a schema without documenting it fails here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { AUTH_ORDER, createAuthRegistry } from '../../src/auth/registry.js';
import { connectionEntrySchema, rateLimitSchema, webhookEntrySchema } from '../../src/config/schema.js';
import { SERVE_FLAGS, settingsSchema } from '../../src/config/settings.js';
import {
  chainConfigSchema,
  chainItemSchema,
  credentialCleanupSchema,
  retrySchema,
} from '../../src/modules/schemas.js';

const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');

interface Row {
  /** The backticked name in the first cell. */
  readonly key: string;
  /** Every cell, trimmed. */
  readonly cells: readonly string[];
}

/** Splits a Markdown table line into cells, honouring `\|` escapes. */
function cellsOf(line: string): string[] {
  return line
    .trim()
    .replace(/^\||\|$/g, '')
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim());
}

/** The text of a section: from its heading line to the next heading of the same or a higher level. */
function section(heading: string): string {
  const lines = doc.split('\n');
  const start = lines.findIndex((line) => line.trim() === heading);
  assert.notEqual(start, -1, `docs/configuration.md has no heading '${heading}'`);
  const level = /^#+/.exec(heading)?.[0].length ?? 0;
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((line) => {
    const hashes = /^(#+) /.exec(line)?.[1];
    return hashes !== undefined && hashes.length <= level;
  });
  return (end === -1 ? rest : rest.slice(0, end)).join('\n');
}

/**
 * The rows of the first table in a section whose header's first cell is
 * `firstHeader`. Rows whose first cell is not a single backticked name are an error.
 */
function tableRows(heading: string, firstHeader: string): Row[] {
  const lines = section(heading).split('\n');
  const headerIndex = lines.findIndex(
    (line) => line.trim().startsWith('|') && cellsOf(line)[0] === firstHeader,
  );
  assert.notEqual(headerIndex, -1, `no table with first column '${firstHeader}' under '${heading}'`);
  const rows: Row[] = [];
  for (const line of lines.slice(headerIndex + 2)) {
    if (!line.trim().startsWith('|')) break;
    const cells = cellsOf(line);
    const key = /^`([^`]+)`$/.exec(cells[0] ?? '')?.[1];
    assert.ok(key !== undefined, `'${heading}': first cell is not a single \`key\`: ${line}`);
    rows.push({ key, cells });
  }
  return rows;
}

/** Asserts that the documented keys are exactly the schema's keys, naming what is missing or extra. */
function assertSameKeys(what: string, documented: readonly string[], declared: readonly string[]): void {
  const missing = declared.filter((key) => !documented.includes(key));
  const extra = documented.filter((key) => !declared.includes(key));
  const duplicated = documented.filter((key, index) => documented.indexOf(key) !== index);
  assert.deepEqual(
    { missing, extra, duplicated },
    { missing: [], extra: [], duplicated: [] },
    `${what}: 'missing' keys are in the schema but not documented in docs/configuration.md; ` +
      `'extra' keys are documented but no longer in the schema`,
  );
}

/** The schema's default for a key, when it has a scalar one worth checking against the docs. */
function scalarDefault(schema: z.ZodType): string | undefined {
  const parsed = schema.safeParse(undefined);
  if (!parsed.success) return undefined;
  const value: unknown = parsed.data;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string' && value !== '') return value;
  return undefined;
}

/** Asserts that each row's default cell shows the schema's scalar default as `value`. */
function assertDefaults(
  what: string,
  rows: readonly Row[],
  shape: Readonly<Record<string, z.ZodType>>,
  column: number,
): void {
  for (const row of rows) {
    const schema = shape[row.key];
    if (schema === undefined) continue; // reported by assertSameKeys
    const expected = scalarDefault(schema);
    if (expected === undefined) continue;
    assert.ok(
      (row.cells[column] ?? '').includes(`\`${expected}\``),
      `${what} › ${row.key}: documented default '${row.cells[column]}' should show \`${expected}\``,
    );
  }
}

const shapeOf = (schema: { shape: Record<string, z.ZodType> }) => schema.shape;

test('every server setting has a row in the settings table, with its flag and default', () => {
  const rows = tableRows('## Server settings', 'setting');
  const shape = shapeOf(settingsSchema);
  assertSameKeys(
    'server settings',
    rows.map((row) => row.key),
    Object.keys(shape),
  );
  assertDefaults('server settings', rows, shape, 2);

  const flagOf = new Map<string, string>(Object.entries(SERVE_FLAGS).map(([flag, name]) => [name, flag]));
  for (const row of rows) {
    const flag = flagOf.get(row.key);
    const documented = row.cells[1] ?? '';
    if (flag === undefined) {
      assert.doesNotMatch(documented, /--/, `${row.key} has no flag, but the table shows '${documented}'`);
    } else {
      assert.equal(documented, `\`--${flag}\``, `${row.key}: the flag is --${flag}`);
    }
  }
});

test('every webhooks.json entry key has a row in the entry table, with its default', () => {
  const rows = tableRows('### Entry keys', 'key');
  const shape = shapeOf(webhookEntrySchema);
  assertSameKeys(
    'webhooks.json entry keys',
    rows.map((row) => row.key),
    Object.keys(shape),
  );
  assertDefaults('webhooks.json entry keys', rows, shape, 2);
});

test('retry, chain items, chain-config, credential_cleanup and rate_limit keys are all documented', () => {
  const chainItemObject = chainItemSchema.options.find(
    (option): option is Extract<typeof option, z.ZodObject> => option instanceof z.ZodObject,
  );
  assert.ok(chainItemObject !== undefined, 'the chain item schema has an object form');
  const cases = [
    { heading: '### `retry`', header: 'key', shape: shapeOf(retrySchema), defaults: 2 },
    { heading: '### `chain` and `chain-config`', header: 'chain item key', shape: chainItemObject.shape },
    {
      heading: '### `chain` and `chain-config`',
      header: 'key',
      shape: shapeOf(chainConfigSchema),
      defaults: 2,
    },
    {
      heading: '### `credential_cleanup`',
      header: 'key',
      shape: shapeOf(credentialCleanupSchema),
      defaults: 2,
    },
    { heading: '### `rate_limit`', header: 'key', shape: shapeOf(rateLimitSchema), defaults: 2 },
    { heading: '## connections.json', header: 'key', shape: shapeOf(connectionEntrySchema) },
  ] as const;
  for (const { heading, header, shape, ...rest } of cases) {
    const rows = tableRows(heading, header);
    const what = `${heading} (${header})`;
    assertSameKeys(
      what,
      rows.map((row) => row.key),
      Object.keys(shape),
    );
    if ('defaults' in rest) assertDefaults(what, rows, shape as Record<string, z.ZodType>, rest.defaults);
  }
});

test('every authentication key is named in the authentication keys section', () => {
  const text = section('### Authentication keys');
  const keys = new Set<string>([...AUTH_ORDER, ...createAuthRegistry().types()]);
  for (const key of keys) {
    assert.ok(text.includes(`\`${key}\``), `authentication key \`${key}\` is not named`);
  }
  assert.match(text, /\(authentication\.md\)/, 'links to authentication.md');
});

test('every schema key appears in docs/configuration.md as `KEY`', () => {
  const shapes = [
    settingsSchema,
    webhookEntrySchema,
    retrySchema,
    chainConfigSchema,
    credentialCleanupSchema,
    rateLimitSchema,
    connectionEntrySchema,
  ];
  for (const schema of shapes) {
    for (const key of Object.keys(schema.shape)) {
      assert.ok(doc.includes(`\`${key}\``), `\`${key}\` is not documented`);
    }
  }
});
