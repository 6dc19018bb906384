import type { Redis } from 'ioredis';
import { duplicateMessageError, queueFullError } from '../../errors.js';
import { newStoredMessage } from '../../lifecycle.js';
import type { NewMessage, StoredMessage } from '../../types.js';
import { encodeData } from '../codec.js';
import type { ChannelKeys } from '../keys.js';
import { APPEND, runScript, type ScriptArg } from '../scripts/index.js';
import type { OpContext } from './context.js';

/** Most messages, and body bytes, one append script call carries. */
const BATCH_MESSAGES = 256;
const BATCH_BYTES = 4 * 1024 * 1024;

interface Queued {
  readonly args: readonly ScriptArg[];
  readonly bytes: number;
  readonly resolve: (result: number) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Appends of one event-loop turn, per channel, go to Redis as one script call (one round trip and one
 * script run for a burst of webhooks instead of one each). Each message is still checked and stored on
 * its own (duplicate id, queue full), and each `append` resolves only once its script call returned.
 */
export class AppendBatcher {
  readonly #client: Redis;
  readonly #queues = new Map<string, { keys: string[]; items: Queued[] }>();
  #scheduled = false;

  constructor(client: Redis) {
    this.#client = client;
  }

  /** Stores one message unless its (channel, webhook) queue is full or its id is taken. */
  async append(ctx: OpContext, message: NewMessage, id: string): Promise<StoredMessage> {
    const { settings } = ctx;
    const stored = newStoredMessage(message, id, ctx.channel, settings, ctx.now);
    const result = await this.#enqueue(ctx.keys, [
      id,
      stored.webhook_id,
      encodeData(message),
      stored.body,
      stored.received_at,
      stored.expires_at,
      settings.max_queue_size,
    ]);
    if (result === -1) throw duplicateMessageError(id);
    if (result === -2) throw queueFullError(ctx.channel, message.webhook_id);
    return stored;
  }

  /** Sends every queued append now (the scheduled flush, and close). */
  flush(): void {
    this.#scheduled = false;
    const queues = [...this.#queues.values()];
    this.#queues.clear();
    for (const { keys, items } of queues) {
      let batch: Queued[] = [];
      let bytes = 0;
      for (const item of items) {
        if (batch.length > 0 && (batch.length >= BATCH_MESSAGES || bytes + item.bytes > BATCH_BYTES)) {
          this.#send(keys, batch);
          batch = [];
          bytes = 0;
        }
        batch.push(item);
        bytes += item.bytes;
      }
      if (batch.length > 0) this.#send(keys, batch);
    }
  }

  #enqueue(keys: ChannelKeys, args: ScriptArg[]): Promise<number> {
    return new Promise((resolve, reject) => {
      let queue = this.#queues.get(keys.stream);
      if (queue === undefined) {
        queue = { keys: [keys.stream, keys.ids, keys.deadIds, keys.ttl, keys.webhookDepths], items: [] };
        this.#queues.set(keys.stream, queue);
      }
      const body = args[3];
      queue.items.push({ args, bytes: Buffer.isBuffer(body) ? body.length : 0, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  #send(keys: readonly string[], batch: readonly Queued[]): void {
    runScript(
      this.#client,
      APPEND,
      keys,
      batch.flatMap((item) => item.args),
    ).then(
      (reply) => {
        const results = Array.isArray(reply) ? (reply as unknown[]) : [];
        batch.forEach((item, i) => {
          const result = results[i];
          if (typeof result === 'number') item.resolve(result);
          else item.reject(new Error('redis buffer: malformed append reply'));
        });
      },
      (error: unknown) => {
        for (const item of batch) item.reject(error);
      },
    );
  }
}
