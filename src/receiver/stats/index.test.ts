import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { isValidStatsEndpoint, RequestStats, sanitizeEndpointId, type EndpointStats } from './index.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
// A day boundary (UTC) plus 10 h 30 min 15 s: buckets are aligned to the epoch.
const T0 = Date.UTC(2025, 0, 15) + 10 * HOUR + 30 * MIN + 15_000;

function zeros(total: number): EndpointStats {
  return {
    total,
    minute: 0,
    '5_minutes': 0,
    '15_minutes': 0,
    '30_minutes': 0,
    hour: 0,
    day: 0,
    week: 0,
    month: 0,
  };
}

test('the response has the reference shape and field order', () => {
  const stats = new RequestStats({ clock: () => T0 });
  assert.equal(stats.increment('stripe'), true);
  const snapshot = stats.snapshot();
  assert.deepEqual(Object.keys(snapshot), ['stripe']);
  assert.deepEqual(Object.keys(snapshot.stripe ?? {}), [
    'total',
    'minute',
    '5_minutes',
    '15_minutes',
    '30_minutes',
    'hour',
    'day',
    'week',
    'month',
  ]);
  assert.deepEqual(snapshot.stripe, {
    total: 1,
    minute: 1,
    '5_minutes': 1,
    '15_minutes': 1,
    '30_minutes': 1,
    hour: 1,
    day: 1,
    week: 1,
    month: 1,
  });
  assert.equal(
    JSON.stringify(stats.snapshot()),
    '{"stripe":{"total":1,"minute":1,"5_minutes":1,"15_minutes":1,"30_minutes":1,"hour":1,"day":1,"week":1,"month":1}}',
  );
});

test('windows count the right buckets as time passes', () => {
  const stats = new RequestStats();
  // One request at each of these offsets before "now".
  const now = T0;
  const ago = [
    0,
    1 * MIN,
    4 * MIN,
    5 * MIN,
    14 * MIN,
    29 * MIN,
    59 * MIN,
    60 * MIN,
    23 * HOUR,
    24 * HOUR,
    6 * DAY,
    7 * DAY,
    29 * DAY,
    30 * DAY,
  ];
  for (const offset of [...ago].sort((a, b) => b - a)) stats.increment('e', now - offset);
  const got = stats.snapshot({ nowMs: now }).e;
  // minute buckets are whole minutes: "4 min ago" is inside the last 5 buckets, "5 min ago" is not.
  assert.deepEqual(got, {
    total: ago.length,
    minute: 1,
    '5_minutes': 3,
    '15_minutes': 5,
    '30_minutes': 6,
    hour: 7,
    day: 9, // everything up to 23 h ago (hour buckets)
    week: 11, // up to 6 days ago (day buckets)
    month: 13, // up to 29 days ago
  });
});

test('stale buckets read as zero and are reused correctly after the ring wraps', () => {
  const stats = new RequestStats();
  stats.increment('e', T0);
  stats.increment('e', T0);
  // Exactly one hour later the minute slot is the same ring position but a different minute.
  assert.deepEqual(stats.snapshot({ nowMs: T0 + HOUR }).e?.minute, 0);
  stats.increment('e', T0 + HOUR);
  const later = stats.snapshot({ nowMs: T0 + HOUR }).e;
  assert.equal(later?.minute, 1);
  assert.equal(later?.hour, 1);
  assert.equal(later?.day, 3);
  // 31 days later only the total remains.
  assert.deepEqual(stats.snapshot({ nowMs: T0 + 31 * DAY }).e, zeros(3));
});

test('endpoint names are limited to 256 characters without NUL, CR or LF; failures count nothing', () => {
  const stats = new RequestStats({ clock: () => T0 });
  assert.equal(stats.increment('x'.repeat(256)), true);
  for (const bad of ['', 'x'.repeat(257), 'a\0b', 'a\rb', 'a\nb']) {
    assert.equal(isValidStatsEndpoint(bad), false);
    assert.equal(stats.increment(bad), false);
  }
  assert.equal(stats.size, 1);
  assert.equal(stats.increment('team/stripe'), true); // namespaced key
});

test('STATS_SANITIZE_IDS keys endpoints by webhook_ + 16 hex of sha256', () => {
  const stats = new RequestStats({ clock: () => T0 });
  stats.increment('stripe');
  stats.increment('stripe');
  const expected = `webhook_${createHash('sha256').update('stripe').digest('hex').slice(0, 16)}`;
  assert.equal(sanitizeEndpointId('stripe'), expected);
  assert.match(expected, /^webhook_[0-9a-f]{16}$/);
  assert.deepEqual(Object.keys(stats.snapshot({ sanitizeIds: true })), [expected]);
  assert.equal(stats.snapshot({ sanitizeIds: true })[expected]?.total, 2);
});

test('endpoint names that are Object.prototype properties are ordinary keys', () => {
  const stats = new RequestStats({ clock: () => T0 });
  stats.increment('__proto__');
  stats.increment('constructor');
  const snapshot = stats.snapshot();
  assert.deepEqual(Object.keys(snapshot), ['__proto__', 'constructor']);
  const name: string = 'constructor';
  assert.equal(snapshot[name]?.total, 1);
  assert.equal(Object.getPrototypeOf(snapshot), null);
  assert.equal(JSON.parse(JSON.stringify(snapshot)).constructor.total, 1);
});

test('memory is bounded: beyond maxEndpoints the least recently counted endpoint is dropped', () => {
  const stats = new RequestStats({ maxEndpoints: 3 });
  stats.increment('a', T0);
  stats.increment('b', T0);
  stats.increment('c', T0);
  stats.increment('a', T0 + MIN); // a counted in a later minute: most recent now
  stats.increment('d', T0 + MIN); // drops b
  assert.deepEqual(Object.keys(stats.snapshot({ nowMs: T0 + MIN })), ['a', 'c', 'd']);
  for (let i = 0; i < 10_000; i++) stats.increment(`flood-${i}`, T0 + 2 * MIN);
  assert.equal(stats.size, 3);
  stats.clear();
  assert.equal(stats.size, 0);
});

test('many increments add up exactly', () => {
  const stats = new RequestStats();
  for (let i = 0; i < 100_000; i++) stats.increment('hot', T0 + (i % 1000));
  assert.deepEqual(stats.snapshot({ nowMs: T0 + 1000 }).hot, {
    total: 100_000,
    minute: 100_000,
    '5_minutes': 100_000,
    '15_minutes': 100_000,
    '30_minutes': 100_000,
    hour: 100_000,
    day: 100_000,
    week: 100_000,
    month: 100_000,
  });
});
