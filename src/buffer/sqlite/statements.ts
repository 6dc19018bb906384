/** Every SQL statement of the backend, prepared once when the store opens. */
import type Database from 'better-sqlite3';
import type { MessageRow, OwnerRow } from './rows.js';

export type Statements = ReturnType<typeof prepareStatements>;

export function prepareStatements(db: Database.Database) {
  return {
    insert: db.prepare<
      [
        {
          channel: string;
          id: string;
          webhook_id: string;
          payload: string;
          body: Buffer;
          content_type: string | null;
          headers: string;
          query: string;
          metadata: string;
          received_at: number;
          expires_at: number;
        },
      ]
    >(
      `INSERT INTO messages (channel, id, webhook_id, state, payload, body, content_type, headers, query, metadata,
         received_at, expires_at, delivery_count, available_at)
       VALUES (@channel, @id, @webhook_id, 'available', @payload, @body, @content_type, @headers, @query, @metadata,
         @received_at, @expires_at, 0, @received_at)`,
    ),
    liveCountOfWebhook: db
      .prepare<[string, string], number>(
        `SELECT COALESCE(SUM(n), 0) FROM queue_counts
         WHERE channel = ? AND webhook_id = ? AND state IN ('available', 'leased')`,
      )
      .pluck(),
    liveCountOfChannel: db
      .prepare<[string], number>(
        `SELECT COALESCE(SUM(n), 0) FROM queue_counts WHERE channel = ? AND state IN ('available', 'leased')`,
      )
      .pluck(),
    liveCountsByWebhook: db.prepare<[string], { webhook_id: string; n: number }>(
      `SELECT webhook_id, SUM(n) AS n FROM queue_counts
       WHERE channel = ? AND state IN ('available', 'leased') GROUP BY webhook_id HAVING SUM(n) > 0`,
    ),
    countsByState: db.prepare<[string], { state: string; n: number }>(
      `SELECT state, SUM(n) AS n FROM queue_counts WHERE channel = ? GROUP BY state`,
    ),
    totals: db.prepare<[string], { acked_total: number; expired_total: number }>(
      `SELECT acked_total, expired_total FROM channel_totals WHERE channel = ?`,
    ),
    addTotals: db.prepare<[string, number, number]>(
      `INSERT INTO channel_totals (channel, acked_total, expired_total) VALUES (?, ?, ?)
       ON CONFLICT (channel) DO UPDATE SET acked_total = acked_total + excluded.acked_total,
         expired_total = expired_total + excluded.expired_total`,
    ),
    leasable: db.prepare<[string, number, number], MessageRow>(
      `SELECT * FROM messages WHERE channel = ? AND state = 'available' AND available_at <= ? ORDER BY seq LIMIT ?`,
    ),
    head: db.prepare<[string], MessageRow>(
      `SELECT * FROM messages WHERE channel = ? AND state IN ('available', 'leased') ORDER BY seq LIMIT 1`,
    ),
    markLeased: db.prepare<[string, number, number]>(
      `UPDATE messages SET state = 'leased', lease_owner = ?, lease_expires_at = ?,
         delivery_count = delivery_count + 1 WHERE seq = ?`,
    ),
    owner: db.prepare<[string, string], OwnerRow>(
      `SELECT seq, state, lease_owner, delivery_count FROM messages WHERE channel = ? AND id = ?`,
    ),
    ownedBy: db.prepare<[string, string], OwnerRow & { id: string }>(
      `SELECT seq, id, state, lease_owner, delivery_count FROM messages
       WHERE channel = ? AND state = 'leased' AND lease_owner = ? ORDER BY seq`,
    ),
    deleteBySeq: db.prepare<[number]>(`DELETE FROM messages WHERE seq = ?`),
    makeAvailable: db.prepare<[number, string | null, number, number]>(
      `UPDATE messages SET state = 'available', available_at = ?, last_error = COALESCE(?, last_error),
         delivery_count = ?, lease_owner = NULL, lease_expires_at = NULL WHERE seq = ?`,
    ),
    makeDead: db.prepare<[string, string | null, number, number]>(
      `UPDATE messages SET state = 'dead', dead_reason = ?, last_error = COALESCE(?, last_error), dead_at = ?,
         lease_owner = NULL, lease_expires_at = NULL WHERE seq = ?`,
    ),
    extend: db.prepare<[number, number]>(`UPDATE messages SET lease_expires_at = ? WHERE seq = ?`),
    expiredLeases: db.prepare<[string, number], OwnerRow>(
      `SELECT seq, state, lease_owner, delivery_count FROM messages
       WHERE channel = ? AND state = 'leased' AND lease_expires_at <= ? ORDER BY seq`,
    ),
    expireAvailable: db.prepare<[number, string, number]>(
      `UPDATE messages SET state = 'dead', dead_reason = 'expired', dead_at = ?
       WHERE channel = ? AND state = 'available' AND expires_at <= ?`,
    ),
    deadLetters: db.prepare<[string, number, number], MessageRow>(
      `SELECT * FROM messages WHERE channel = ? AND state = 'dead' ORDER BY seq LIMIT ? OFFSET ?`,
    ),
    deadSeqs: db
      .prepare<[string], number>(`SELECT seq FROM messages WHERE channel = ? AND state = 'dead' ORDER BY seq`)
      .pluck(),
    deadSeqById: db
      .prepare<[string, string], number>(
        `SELECT seq FROM messages WHERE channel = ? AND id = ? AND state = 'dead'`,
      )
      .pluck(),
    replay: db.prepare<[number, number, number]>(
      `UPDATE messages SET state = 'available', delivery_count = 0, available_at = ?, expires_at = ?,
         dead_reason = NULL, last_error = NULL, dead_at = NULL WHERE seq = ?`,
    ),
    getState: db.prepare<[string], string>(`SELECT state FROM channel_state WHERE channel = ?`).pluck(),
    setState: db.prepare<[string, string, number]>(
      `INSERT INTO channel_state (channel, state, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (channel) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
    ),
    ping: db.prepare<[], number>(`SELECT 1`).pluck(),
  };
}
