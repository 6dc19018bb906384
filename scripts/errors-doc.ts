/**
 * Renders docs/errors.md from the error catalogue. `npm run docs:errors` writes it; the catalogue test
 * fails when the committed file differs from what this renders.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ERROR_CATALOGUE } from '../src/shared/errors.js';

export const ERRORS_DOC_PATH = fileURLToPath(new URL('../docs/errors.md', import.meta.url));

export function renderErrorsDoc(): string {
  const rows = Object.entries(ERROR_CATALOGUE).map(
    ([code, spec]) => `| \`${code}\` | ${spec.status} | ${spec.message.replaceAll('|', '\\|')} |`,
  );
  return [
    '# Error codes',
    '',
    'Every error response has the body `{"detail": "<message>", "code": "<CODE>"}`. `detail` may be more',
    'specific than the generic message below, but never contains a secret. Codes are stable; a retired code',
    'is never reused. This page is generated from `src/shared/errors.ts` by `npm run docs:errors`.',
    '',
    '| code | HTTP status | generic message |',
    '| --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(ERRORS_DOC_PATH, renderErrorsDoc());
  console.log(`wrote ${ERRORS_DOC_PATH}`);
}
