/**
 * The fault suite's ledger: the sender records every webhook id that got a 200 (the id travels in the
 * JSON body), the recording target records every delivery, and `settle` asserts that every accepted id
 * arrived (lost = 0), counting duplicates. Posts that fail (connection error, 503, …) are never counted
 * as accepted; if one of them is delivered anyway it is reported as `unconfirmed`, not as a loss.
 *
 * Built on the e2e stack (`test/e2e/stack.ts`): real receiver and connector processes.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ADMIN_TOKEN, githubSignature, httpCall, JSON_HOOK, waitUntil, type Stack } from '../e2e/stack.js';

export interface LedgerCounts {
  readonly sent: number;
  readonly accepted: number;
  readonly delivered: number;
  readonly duplicates: number;
  readonly lost: number;
  readonly unconfirmed: number;
}

export class Ledger {
  readonly #prefix = randomBytes(4).toString('hex');
  #next = 0;
  /** Ids posted (whatever the outcome). */
  readonly sent = new Set<string>();
  /** Ids answered 200. */
  readonly accepted = new Set<string>();
  /** Refusals and errors by kind, for the report. */
  readonly refusals = new Map<string, number>();

  constructor(
    readonly scenario: string,
    readonly stack: Stack,
  ) {}

  /** Posts one webhook carrying a fresh unique id; records it as accepted only on a 200. */
  async postOne(): Promise<boolean> {
    const id = `${this.scenario}-${this.#prefix}-${++this.#next}`;
    const body = Buffer.from(JSON.stringify({ ledger_id: id, action: 'opened', pad: 'x'.repeat(64) }));
    this.sent.add(id);
    let outcome: string;
    try {
      const answer = await httpCall('POST', `${this.stack.url}/webhook/${JSON_HOOK}`, {
        body,
        headers: {
          'content-type': 'application/json',
          'x-hub-signature-256': githubSignature(body),
          'x-github-event': 'pull_request',
          'x-github-delivery': id,
        },
        timeoutMs: 20_000,
      });
      if (answer.status === 200) {
        this.accepted.add(id);
        return true;
      }
      outcome = `HTTP ${answer.status}`;
    } catch (error) {
      outcome = (error as NodeJS.ErrnoException).code ?? 'error';
    }
    this.refusals.set(outcome, (this.refusals.get(outcome) ?? 0) + 1);
    return false;
  }

  /** Posts `count` webhooks, `parallel` at a time; returns how many were accepted. */
  async post(count: number, parallel = 10, stop: () => boolean = () => false): Promise<number> {
    let remaining = count;
    let accepted = 0;
    const worker = async () => {
      while (remaining > 0 && !stop()) {
        remaining -= 1;
        if (await this.postOne()) accepted += 1;
        // A refused post (receiver down) backs off a little instead of spinning on ECONNREFUSED.
        else await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    await Promise.all(Array.from({ length: parallel }, worker));
    return accepted;
  }

  /** Successful (2xx) deliveries per ledger id, from the recording target. */
  deliveries(): Map<string, number> {
    const byId = new Map<string, number>();
    for (const request of this.stack.target.requests) {
      if (request.status === undefined || request.status < 200 || request.status > 299) continue;
      const id = ledgerId(request.body);
      if (id !== undefined) byId.set(id, (byId.get(id) ?? 0) + 1);
    }
    return byId;
  }

  counts(): LedgerCounts {
    const byId = this.deliveries();
    let delivered = 0;
    let duplicates = 0;
    let unconfirmed = 0;
    for (const [id, n] of byId) {
      if (this.accepted.has(id)) delivered += 1;
      else if (this.sent.has(id)) unconfirmed += 1;
      duplicates += n - 1;
    }
    return {
      sent: this.sent.size,
      accepted: this.accepted.size,
      delivered,
      duplicates,
      lost: this.accepted.size - delivered,
      unconfirmed,
    };
  }

  /** Accepted ids not delivered (yet). */
  missing(): string[] {
    const byId = this.deliveries();
    return [...this.accepted].filter((id) => !byId.has(id));
  }

  /** Waits (polling, generous deadline) until every accepted id was delivered, then prints the ledger line. */
  async settle(timeoutMs = 60_000, extra = ''): Promise<LedgerCounts> {
    await waitUntil(
      () => this.missing().length === 0,
      () => {
        const missing = this.missing();
        return `every accepted id delivered (${this.line(this.counts())}; missing e.g. ${missing.slice(0, 5).join(', ')})`;
      },
      timeoutMs,
    );
    const counts = this.counts();
    console.log(`${this.line(counts)}${extra === '' ? '' : `, ${extra}`}`);
    assert.equal(counts.lost, 0, 'no accepted webhook is lost');
    return counts;
  }

  line(counts: LedgerCounts): string {
    const refusals = [...this.refusals].map(([kind, n]) => `${kind} ×${n}`).join(' ');
    return (
      `ledger ${this.scenario}: sent ${counts.sent}, accepted ${counts.accepted}, delivered ${counts.delivered}, ` +
      `duplicates ${counts.duplicates}, lost ${counts.lost}` +
      (counts.unconfirmed > 0 ? `, delivered-but-unconfirmed ${counts.unconfirmed}` : '') +
      (refusals === '' ? '' : ` (refused: ${refusals})`)
    );
  }
}

export function ledgerId(body: Buffer): string | undefined {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { ledger_id?: unknown };
    return typeof parsed.ledger_id === 'string' ? parsed.ledger_id : undefined;
  } catch {
    return undefined;
  }
}

/** Admin API call on the stack's channel with any method; throws on a non-200. */
export async function adminCall(
  stack: Stack,
  method: string,
  path: string,
  body?: unknown,
): Promise<unknown> {
  const answer = await httpCall(
    method,
    `${stack.url}/admin/webhook-connect/channels/${stack.channel}${path}`,
    {
      headers: {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    },
  );
  if (answer.status !== 200) throw new Error(`admin ${method} ${path}: ${answer.status} ${answer.text}`);
  return JSON.parse(answer.text) as unknown;
}

/** A small seeded PRNG (mulberry32) so a flapping run can be replayed from its printed seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
