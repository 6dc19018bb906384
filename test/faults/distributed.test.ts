/**
 * Fault injection (issue 7) on the distributed buffers, Redis and RabbitMQ: the scenarios of
 * faults.test.ts that apply to them (`scenarios.ts`), with real receiver and connector processes and the
 * ledger (lost = 0, duplicates printed):
 *
 * - connector SIGKILLed mid-stream and restarted;
 * - receiver SIGKILLed mid-ingest (posts continue) and restarted on the same buffer;
 * - receiver SIGKILLed mid-delivery, a new one started on the same buffer, the connector reconnects.
 *
 * Counts are smaller than the sqlite ones (CI time): the paths are the same. Each backend skips with one
 * line when its service is unreachable, and fails instead with WEBHOOK_CONNECT_REQUIRE_SERVICES=1.
 */
import { describe, test } from 'node:test';
import {
  bufferUsable,
  connectorKilledMidStream,
  receiverKilledMidDelivery,
  receiverKilledMidIngest,
  withStack,
} from './scenarios.js';

for (const buffer of ['redis', 'rabbitmq'] as const) {
  describe(`fault injection (${buffer} buffer, real processes)`, { concurrency: 1 }, () => {
    test(`connector SIGKILLed mid-stream and restarted (${buffer}): every accepted webhook delivered`, async (t) => {
      if (!(await bufferUsable(t, buffer))) return;
      await withStack({ buffer }, (stack) =>
        connectorKilledMidStream(stack, `connector-sigkill-${buffer}`, 300, 60),
      );
    });

    test(`receiver SIGKILLed mid-ingest and restarted (${buffer}): no accepted webhook lost`, async (t) => {
      if (!(await bufferUsable(t, buffer))) return;
      await withStack({ buffer }, (stack) =>
        receiverKilledMidIngest(stack, `receiver-sigkill-${buffer}`, {
          before: 100,
          refusedWhileDown: 10,
          after: 60,
        }),
      );
    });

    test(`receiver SIGKILLed mid-delivery, a new one on the same buffer (${buffer}): the connector reconnects, nothing lost`, async (t) => {
      if (!(await bufferUsable(t, buffer))) return;
      await withStack({ buffer }, (stack) =>
        receiverKilledMidDelivery(stack, `receiver-sigkill-mid-delivery-${buffer}`, 300, 60),
      );
    });
  });
}
