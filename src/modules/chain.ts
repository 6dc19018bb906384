/**
 * The chain runner (reference §5): runs a webhook's chain items sequentially or in parallel.
 *
 * - sequential: items run in order, each under its own deadline (`chain-config.timeout`, covering all of
 *   its retries). With `continue_on_error: false` the first failure stops the chain; the remaining items are
 *   reported failed ("Chain execution stopped due to previous error") without running.
 * - parallel: all items start together under one overall deadline. With `continue_on_error: false` the
 *   first failure cancels the others through their AbortSignal (they report "cancelled"); with `true` all
 *   run to completion. On the deadline every unfinished item is cancelled ("Task timed out after Ns").
 *
 * An abort of the caller's signal (shutdown) cancels everything; such results carry `aborted: true`.
 */
import { PermanentDeliveryError, TransientDeliveryError } from '../shared/delivery-errors.js';
import type { ChainExecutionConfig } from './schemas.js';

/** The result of one module of a dispatch. */
export interface ModuleResult {
  /** Canonical module type (`postgresql` for an item that said `postgres`). */
  readonly module: string;
  /** Position in the chain (0 for a single module). */
  readonly index: number;
  readonly success: boolean;
  /** Attempts that ran to completion (0 when skipped; an attempt cut short by shutdown is not counted). */
  readonly attempts: number;
  /** Wall time of this module including retries, in ms. */
  readonly durationMs: number;
  /** True when the module never ran (sequential chain stopped earlier). */
  readonly skipped: boolean;
  /** True when the caller's signal (shutdown) interrupted it. */
  readonly aborted: boolean;
  /** Catalogue code: the module's own `WebhookConnectError` code, else `WC_DELIVERY_TRANSIENT` / `_PERMANENT`. */
  readonly errorCode?: string;
  /** Safe one-line description of the failure. */
  readonly errorMessage?: string;
  /** Whether retrying the delivery later could succeed. */
  readonly retryable?: boolean;
  /** The classified failure (its `cause` is the original error) — for logs and status mapping. */
  readonly error?: TransientDeliveryError | PermanentDeliveryError;
}

/** Runs chain item `index` under `signal`. Must not throw. */
export type ItemRunner = (index: number, signal: AbortSignal) => Promise<ModuleResult>;

export const STOPPED_MESSAGE = 'Chain execution stopped due to previous error';

/** An AbortController linked to `parent` that also aborts with `reason` after `ms`. */
function deadline(parent: AbortSignal, ms: number, reason: () => Error) {
  const controller = new AbortController();
  const onAbort = () => controller.abort(parent.reason);
  if (parent.aborted) controller.abort(parent.reason);
  else parent.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => controller.abort(reason()), ms);
  return {
    controller,
    dispose() {
      clearTimeout(timer);
      parent.removeEventListener('abort', onAbort);
    },
  };
}

function timedOut(seconds: number): Error {
  return new TransientDeliveryError(`Task timed out after ${seconds}s`);
}

export async function runChain(
  moduleNames: readonly string[],
  execution: ChainExecutionConfig,
  signal: AbortSignal,
  runItem: ItemRunner,
): Promise<ModuleResult[]> {
  const timeoutMs = execution.timeout * 1000;
  if (execution.execution === 'sequential') {
    const results: ModuleResult[] = [];
    let stopped = false;
    for (const [index, module] of moduleNames.entries()) {
      if (stopped || signal.aborted) {
        results.push(skippedResult(module, index, signal.aborted));
        continue;
      }
      const item = deadline(signal, timeoutMs, () => timedOut(execution.timeout));
      try {
        const result = await runItem(index, item.controller.signal);
        results.push(result);
        if (!result.success && !execution.continue_on_error) stopped = true;
      } finally {
        item.dispose();
      }
    }
    return results;
  }

  const group = deadline(signal, timeoutMs, () => timedOut(execution.timeout));
  try {
    return await Promise.all(
      moduleNames.map((_module, index) =>
        runItem(index, group.controller.signal).then((result) => {
          if (!result.success && !execution.continue_on_error && !group.controller.signal.aborted) {
            group.controller.abort(new PermanentDeliveryError('Cancelled after another chain item failed'));
          }
          return result;
        }),
      ),
    );
  } finally {
    group.dispose();
  }
}

function skippedResult(module: string, index: number, aborted: boolean): ModuleResult {
  const error = aborted
    ? new TransientDeliveryError('Not run: shutting down')
    : new PermanentDeliveryError(STOPPED_MESSAGE);
  return {
    module,
    index,
    success: false,
    attempts: 0,
    durationMs: 0,
    skipped: true,
    aborted,
    errorCode: aborted ? 'WC_DELIVERY_TRANSIENT' : 'WC_DELIVERY_PERMANENT',
    errorMessage: error.message,
    retryable: aborted,
    error,
  };
}
