/**
 * Migration 1: messages with their lease state, live counts kept by triggers, durable counters and
 * channel state. Append-only: never edit a released migration, add the next number.
 */
export const MIGRATION_001_INITIAL = `
CREATE TABLE messages (
  seq              INTEGER PRIMARY KEY AUTOINCREMENT, -- FIFO order, never reused
  channel          TEXT    NOT NULL,
  id               TEXT    NOT NULL,
  webhook_id       TEXT    NOT NULL,
  state            TEXT    NOT NULL CHECK (state IN ('available', 'leased', 'dead')),
  payload          TEXT    NOT NULL,                  -- JSON text ('null' when not JSON)
  body             BLOB    NOT NULL,                  -- exact request bytes
  content_type     TEXT,
  headers          TEXT    NOT NULL,                  -- JSON object
  query            TEXT    NOT NULL,                  -- JSON object
  metadata         TEXT    NOT NULL,                  -- JSON object
  received_at      INTEGER NOT NULL,                  -- epoch ms
  expires_at       INTEGER NOT NULL,
  delivery_count   INTEGER NOT NULL DEFAULT 0,
  available_at     INTEGER NOT NULL,                  -- not leasable before (retry backoff)
  lease_owner      TEXT,
  lease_expires_at INTEGER,
  dead_reason      TEXT,
  last_error       TEXT,
  dead_at          INTEGER,
  UNIQUE (channel, id)
);

-- Lease scans (oldest available first), stats and dead-letter listing.
CREATE INDEX messages_queue ON messages (channel, state, seq);
-- Sweeps touch only the rows they can act on.
CREATE INDEX messages_lease_deadline ON messages (channel, lease_expires_at) WHERE state = 'leased';
CREATE INDEX messages_ttl ON messages (channel, expires_at) WHERE state = 'available';

-- Live counts per (channel, webhook, state): queue-full checks and depth without scanning.
CREATE TABLE queue_counts (
  channel    TEXT    NOT NULL,
  webhook_id TEXT    NOT NULL,
  state      TEXT    NOT NULL,
  n          INTEGER NOT NULL,
  PRIMARY KEY (channel, webhook_id, state)
) WITHOUT ROWID;

CREATE TRIGGER messages_count_insert AFTER INSERT ON messages BEGIN
  INSERT INTO queue_counts (channel, webhook_id, state, n) VALUES (NEW.channel, NEW.webhook_id, NEW.state, 1)
    ON CONFLICT (channel, webhook_id, state) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER messages_count_delete AFTER DELETE ON messages BEGIN
  UPDATE queue_counts SET n = n - 1
    WHERE channel = OLD.channel AND webhook_id = OLD.webhook_id AND state = OLD.state;
END;

CREATE TRIGGER messages_count_update AFTER UPDATE OF state ON messages WHEN OLD.state <> NEW.state BEGIN
  UPDATE queue_counts SET n = n - 1
    WHERE channel = OLD.channel AND webhook_id = OLD.webhook_id AND state = OLD.state;
  INSERT INTO queue_counts (channel, webhook_id, state, n) VALUES (NEW.channel, NEW.webhook_id, NEW.state, 1)
    ON CONFLICT (channel, webhook_id, state) DO UPDATE SET n = n + 1;
END;

CREATE TABLE channel_totals (
  channel       TEXT    PRIMARY KEY,
  acked_total   INTEGER NOT NULL DEFAULT 0,
  expired_total INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE channel_state (
  channel    TEXT    PRIMARY KEY,
  state      TEXT    NOT NULL, -- JSON
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
`;
