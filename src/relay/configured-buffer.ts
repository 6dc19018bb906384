/** The buffer the environment selects (`WEBHOOK_CONNECT_BUFFER` and friends, see docs/buffers.md). */
import { createBuffer, selectBuffer } from '../buffer/registry.js';
import type { MessageBuffer } from '../buffer/types.js';
import type { Logger } from '../observability/logger.js';

export async function createConfiguredBuffer(
  env: Readonly<Record<string, string | undefined>>,
  logger: Logger,
): Promise<MessageBuffer> {
  const selection = selectBuffer(env);
  return createBuffer(selection.kind, {
    logger: logger.child({ component: 'buffer' }),
    ...(selection.sqlitePath === undefined ? {} : { sqlite: { path: selection.sqlitePath } }),
  });
}
