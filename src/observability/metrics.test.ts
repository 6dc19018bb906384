import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Gauge, register as globalRegistry } from 'prom-client';
import {
  createMetrics,
  OVERFLOW_LABEL,
  REQUEST_DURATION_BUCKETS,
  UNMATCHED_WEBHOOK_LABEL,
} from './metrics.js';

// --- a strict parser of the Prometheus text exposition format 0.0.4 -----------------------------------

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
// The exposition format's spellings only: NaN, +Inf, -Inf (prom-client writes "Nan"; render() fixes it).
const VALUE = /^(?:NaN|[+-]Inf|[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(text: string, line: string): number {
  if (!VALUE.test(text)) throw new Error(`bad value ${JSON.stringify(text)} in: ${line}`);
  if (text === 'NaN') return Number.NaN;
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

function parseSampleLine(line: string): Sample {
  const nameMatch = METRIC_NAME.exec(line);
  if (nameMatch === null) throw new Error(`bad metric name in: ${line}`);
  const name = nameMatch[0];
  let i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    while (line[i] !== '}') {
      const labelMatch = LABEL_NAME.exec(line.slice(i));
      if (labelMatch === null) throw new Error(`bad label name in: ${line}`);
      const labelName = labelMatch[0];
      if (labelName in labels) throw new Error(`duplicate label ${labelName} in: ${line}`);
      i += labelName.length;
      if (line.slice(i, i + 2) !== '="') throw new Error(`expected =" in: ${line}`);
      i += 2;
      let value = '';
      for (;;) {
        const c = line[i];
        if (c === undefined) throw new Error(`unterminated label value in: ${line}`);
        if (c === '"') break;
        if (c === '\\') {
          const next = line[i + 1];
          if (next === '\\') value += '\\';
          else if (next === '"') value += '"';
          else if (next === 'n') value += '\n';
          else throw new Error(`bad escape in: ${line}`);
          i += 2;
        } else {
          value += c;
          i++;
        }
      }
      i++; // closing quote
      labels[labelName] = value;
      if (line[i] === ',') i++;
      else if (line[i] !== '}') throw new Error(`expected , or } in: ${line}`);
    }
    i++;
  }
  const rest = line.slice(i);
  if (!rest.startsWith(' ')) throw new Error(`expected a space before the value in: ${line}`);
  const parts = rest.slice(1).split(' ');
  if (parts.length > 2 || parts.some((p) => p === '')) throw new Error(`bad value/timestamp in: ${line}`);
  const value = parseValue(parts[0] as string, line);
  if (parts.length === 2 && !/^-?\d+$/.test(parts[1] as string)) throw new Error(`bad timestamp in: ${line}`);
  return { name, labels, value };
}

/** Parses and validates a whole exposition; throws on the first violation. */
function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  if (!text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const samples: Sample[] = [];
  const seen = new Set<string>();
  for (const line of text.slice(0, -1).split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
      if (m === null) continue; // an ordinary comment
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`unknown type in: ${line}`);
        if (types.has(name)) throw new Error(`second TYPE for ${name}`);
        if (samples.some((s) => familyOf(s.name, types) === name))
          throw new Error(`TYPE after samples: ${name}`);
        types.set(name, rest);
      } else {
        if (helps.has(name)) throw new Error(`second HELP for ${name}`);
        if (/\\(?![\\n])/.test(rest)) throw new Error(`bad escape in HELP: ${line}`);
        helps.add(name);
      }
      continue;
    }
    const sample = parseSampleLine(line);
    const family = familyOf(sample.name, types);
    if (family === undefined) throw new Error(`sample without TYPE: ${line}`);
    const key = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (seen.has(key)) throw new Error(`duplicate sample: ${line}`);
    seen.add(key);
    samples.push(sample);
  }
  checkHistograms(samples, types);
  return { samples, types };
}

function familyOf(sampleName: string, types: Map<string, string>): string | undefined {
  if (types.has(sampleName)) return sampleName;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!sampleName.endsWith(suffix)) continue;
    const base = sampleName.slice(0, -suffix.length);
    const type = types.get(base);
    if (type === 'histogram' || (type === 'summary' && suffix !== '_bucket')) return base;
  }
  return undefined;
}

function checkHistograms(samples: Sample[], types: Map<string, string>): void {
  for (const [family, type] of types) {
    if (type !== 'histogram') continue;
    const series = new Map<string, { le: number; count: number }[]>();
    for (const s of samples.filter((x) => x.name === `${family}_bucket`)) {
      const { le, ...rest } = s.labels;
      if (le === undefined) throw new Error(`bucket without le in ${family}`);
      const key = JSON.stringify(Object.entries(rest).sort());
      const list = series.get(key) ?? [];
      list.push({ le: parseValue(le, le), count: s.value });
      series.set(key, list);
    }
    for (const [key, buckets] of series) {
      for (let i = 1; i < buckets.length; i++) {
        const prev = buckets[i - 1] as { le: number; count: number };
        const cur = buckets[i] as { le: number; count: number };
        if (!(cur.le > prev.le)) throw new Error(`buckets out of order in ${family} ${key}`);
        if (cur.count < prev.count) throw new Error(`buckets not cumulative in ${family} ${key}`);
      }
      const last = buckets.at(-1);
      if (last?.le !== Infinity) throw new Error(`no +Inf bucket in ${family} ${key}`);
      const count = samples.find(
        (s) => s.name === `${family}_count` && JSON.stringify(Object.entries(s.labels).sort()) === key,
      );
      if (count?.value !== last.count) throw new Error(`_count differs from +Inf bucket in ${family} ${key}`);
    }
  }
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find(
    (s) =>
      s.name === name &&
      Object.entries(labels).every(([k, v]) => s.labels[k] === v) &&
      Object.keys(s.labels).length === Object.keys(labels).length,
  )?.value;
}

// --- tests ---------------------------------------------------------------------------------------------

test('the strict parser itself rejects malformed expositions', () => {
  const ok = '# TYPE foo counter\nfoo{a="b"} 1\n';
  assert.equal(parseExposition(ok).samples.length, 1);
  for (const bad of [
    '# TYPE foo counter\nfoo{a="b} 1\n',
    '# TYPE foo counter\nfoo 1 2 3\n',
    '# TYPE foo counter\nfoo{a="\\q"} 1\n',
    '# TYPE foo counter\nfoo one\n',
    '# TYPE foo counter\nfoo 0x10\n',
    '# TYPE foo gauge\nfoo Nan\n',
    '# TYPE foo counter\nfoo{a="1",a="2"} 1\n',
    'foo 1\n',
    '# TYPE foo counter\nfoo 1',
    '# TYPE foo counter\nfoo 1\nfoo 2\n',
    '# TYPE foo wibble\nfoo 1\n',
    '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1\nh_sum 0\n',
    '# TYPE h histogram\nh_bucket{le="1"} 1\nh_count 1\nh_sum 0\n',
  ]) {
    assert.throws(() => parseExposition(bad), Error, JSON.stringify(bad));
  }
});

test('render() is valid Prometheus text with the request, delivery and task metrics', async () => {
  const metrics = createMetrics();
  metrics.observeRequest('stripe', 200, 0.0007);
  metrics.observeRequest('stripe', 200, 0.3);
  metrics.observeRequest('stripe', 401, 0.002);
  metrics.observeRequest(UNMATCHED_WEBHOOK_LABEL, 404, 0.0001);
  metrics.observeDelivery('log', 'success', 0.01);
  metrics.observeDelivery('http_webhook', 'transient_failure', 2);
  metrics.observeDelivery('http_webhook', 'permanent_failure', 0.5);
  metrics.trackTasks(() => ({ active: 3, waiting: 2, refused: 4 }));
  metrics.taskDropped();

  assert.match(metrics.contentType, /^text\/plain; version=0\.0\.4/);
  const { samples, types } = parseExposition(await metrics.render());
  assert.equal(types.get('webhook_requests_total'), 'counter');
  assert.equal(types.get('webhook_request_duration_seconds'), 'histogram');
  assert.equal(types.get('module_deliveries_total'), 'counter');
  assert.equal(types.get('module_delivery_duration_seconds'), 'histogram');
  assert.equal(types.get('background_tasks_in_flight'), 'gauge');
  assert.equal(types.get('background_tasks_dropped_total'), 'counter');
  assert.ok(types.has('process_cpu_user_seconds_total') && types.has('nodejs_heap_size_used_bytes'));

  assert.equal(value(samples, 'webhook_requests_total', { webhook: 'stripe', status: '200' }), 2);
  assert.equal(value(samples, 'webhook_requests_total', { webhook: 'stripe', status: '401' }), 1);
  assert.equal(value(samples, 'webhook_requests_total', { webhook: '_unknown', status: '404' }), 1);
  assert.equal(value(samples, 'webhook_request_duration_seconds_count', { webhook: 'stripe' }), 3);
  assert.equal(
    value(samples, 'webhook_request_duration_seconds_bucket', { webhook: 'stripe', le: '0.0005' }),
    0,
  );
  assert.equal(
    value(samples, 'webhook_request_duration_seconds_bucket', { webhook: 'stripe', le: '0.001' }),
    1,
  );
  assert.equal(
    value(samples, 'webhook_request_duration_seconds_bucket', { webhook: 'stripe', le: '0.0025' }),
    2,
  );
  assert.equal(value(samples, 'webhook_request_duration_seconds_bucket', { webhook: 'stripe', le: '10' }), 3);
  assert.equal(
    value(samples, 'webhook_request_duration_seconds_bucket', { webhook: '_unknown', le: '0.0005' }),
    1,
  );
  assert.equal(
    samples.filter(
      (s) => s.name === 'webhook_request_duration_seconds_bucket' && s.labels.webhook === 'stripe',
    ).length,
    REQUEST_DURATION_BUCKETS.length + 1,
  );
  assert.equal(value(samples, 'module_deliveries_total', { module: 'log', result: 'success' }), 1);
  assert.equal(
    value(samples, 'module_deliveries_total', { module: 'http_webhook', result: 'transient_failure' }),
    1,
  );
  assert.equal(
    value(samples, 'module_deliveries_total', { module: 'http_webhook', result: 'permanent_failure' }),
    1,
  );
  assert.equal(value(samples, 'module_delivery_duration_seconds_sum', { module: 'http_webhook' }), 2.5);
  assert.equal(value(samples, 'background_tasks_in_flight'), 3);
  assert.equal(value(samples, 'background_tasks_waiting'), 2);
  assert.equal(value(samples, 'background_tasks_dropped_total'), 5);
});

test('NaN values are written in the canonical spelling', async () => {
  const metrics = createMetrics({ defaultMetrics: false });
  new Gauge({ name: 'not_a_number', help: 'x Nan', registers: [metrics.registry] }).set(Number.NaN);
  const text = await metrics.render();
  assert.match(text, /^not_a_number NaN$/m);
  assert.match(text, /^# HELP not_a_number x Nan$/m);
  assert.ok(Number.isNaN(value(parseExposition(text).samples, 'not_a_number')));
});

test('gauges follow the tracked source at each scrape; a throwing source does not break the scrape', async () => {
  const metrics = createMetrics({ defaultMetrics: false });
  let active = 1;
  metrics.trackTasks(() => ({ active, refused: 0 }));
  assert.equal(value(parseExposition(await metrics.render()).samples, 'background_tasks_in_flight'), 1);
  active = 7;
  assert.equal(value(parseExposition(await metrics.render()).samples, 'background_tasks_in_flight'), 7);
  metrics.trackTasks(() => {
    throw new Error('broken');
  });
  const { samples } = parseExposition(await metrics.render());
  assert.equal(value(samples, 'background_tasks_in_flight'), 0);
  assert.equal(value(samples, 'background_tasks_waiting'), 0);
});

test('label values are escaped correctly and stay parseable', async () => {
  const metrics = createMetrics({ defaultMetrics: false });
  const odd = 'we"ird\\name\nline2';
  metrics.observeRequest(odd, 200, 0.01);
  const { samples } = parseExposition(await metrics.render());
  assert.equal(value(samples, 'webhook_requests_total', { webhook: odd, status: '200' }), 1);
});

test('distinct label values are capped; later ones are counted as _other', async () => {
  const metrics = createMetrics({ defaultMetrics: false, maxLabelValues: 2 });
  for (const id of ['a', 'b', 'c', 'd', 'a']) metrics.observeRequest(id, 200, 0.001);
  for (const m of ['log', 'kafka', 'mqtt']) metrics.observeDelivery(m, 'success', 0.001);
  const { samples } = parseExposition(await metrics.render());
  assert.equal(value(samples, 'webhook_requests_total', { webhook: 'a', status: '200' }), 2);
  assert.equal(value(samples, 'webhook_requests_total', { webhook: 'b', status: '200' }), 1);
  assert.equal(value(samples, 'webhook_requests_total', { webhook: OVERFLOW_LABEL, status: '200' }), 2);
  assert.equal(value(samples, 'webhook_requests_total', { webhook: 'c', status: '200' }), undefined);
  assert.equal(value(samples, 'module_deliveries_total', { module: OVERFLOW_LABEL, result: 'success' }), 1);
  assert.equal(
    new Set(samples.filter((s) => s.name === 'webhook_requests_total').map((s) => s.labels.webhook)).size,
    3,
  );
});

test('each instance has its own registry; the global registry is untouched', async () => {
  const one = createMetrics();
  const two = createMetrics();
  one.observeRequest('x', 200, 0.01);
  assert.equal(
    value(parseExposition(await two.render()).samples, 'webhook_requests_total', {
      webhook: 'x',
      status: '200',
    }),
    undefined,
  );
  assert.equal(globalRegistry.getSingleMetric('webhook_requests_total'), undefined);
  assert.notEqual(one.registry, globalRegistry);
});

test('negative, NaN and infinite durations are not observed (counts still are)', async () => {
  const metrics = createMetrics({ defaultMetrics: false });
  metrics.observeRequest('x', 200, -1);
  metrics.observeRequest('x', 200, Number.NaN);
  metrics.observeRequest('x', 200, Infinity);
  const { samples } = parseExposition(await metrics.render());
  assert.equal(value(samples, 'webhook_requests_total', { webhook: 'x', status: '200' }), 3);
  assert.equal(value(samples, 'webhook_request_duration_seconds_count', { webhook: 'x' }) ?? 0, 0);
  assert.equal(value(samples, 'webhook_request_duration_seconds_sum', { webhook: 'x' }) ?? 0, 0);
});
