import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import client from 'prom-client';
import { PromParseError, parsePromText, seriesCount } from '../../helpers/prom-text.ts';

const GOOD = `# HELP http_requests_total Requests.\\nSecond line with a \\\\ backslash.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027 1395066363000
http_requests_total{method="post",code="400",} 3 1395066363000

# A plain comment
# TYPE latency_seconds histogram
latency_seconds_bucket{path="/a\\"b\\\\c\\nd",le="0.05"} 24054
latency_seconds_bucket{path="/a\\"b\\\\c\\nd",le="0.1"} 33444
latency_seconds_bucket{path="/a\\"b\\\\c\\nd",le="+Inf"} 144320
latency_seconds_sum{path="/a\\"b\\\\c\\nd"} 53423
latency_seconds_count{path="/a\\"b\\\\c\\nd"} 144320
# TYPE rpc_duration_seconds summary
rpc_duration_seconds{quantile="0.5"} 4773
rpc_duration_seconds_sum 1.7560473e+07
rpc_duration_seconds_count 2693
temperature -Inf
odd NaN
`;

describe('parsePromText', () => {
  it('reads families, escapes, types and timestamps', () => {
    const f = parsePromText(GOOD);
    const requests = f.get('http_requests_total')!;
    assert.equal(requests.type, 'counter');
    assert.equal(requests.help, 'Requests.\nSecond line with a \\ backslash.');
    assert.deepEqual(requests.samples[1], { name: 'http_requests_total', labels: { method: 'post', code: '400' }, value: 3, timestamp: 1395066363000 });
    const latency = f.get('latency_seconds')!;
    assert.equal(latency.type, 'histogram');
    assert.equal(latency.samples.length, 5);
    assert.equal(latency.samples[0]!.labels.path, '/a"b\\c\nd');
    assert.equal(seriesCount(latency), 1);
    assert.equal(f.get('rpc_duration_seconds')!.samples.length, 3);
    assert.equal(f.get('temperature')!.type, 'untyped');
    assert.equal(f.get('temperature')!.samples[0]!.value, -Infinity);
    assert.ok(Number.isNaN(f.get('odd')!.samples[0]!.value));
  });

  it("accepts prom-client's own output, default metrics included", async () => {
    const registry = new client.Registry();
    client.collectDefaultMetrics({ register: registry });
    const h = new client.Histogram({ name: 'h_seconds', help: 'h', labelNames: ['a'], registers: [registry], buckets: [0.001, 0.01] });
    h.observe({ a: 'x"y' }, 0.005);
    h.observe({ a: 'x"y' }, 5);
    const families = parsePromText(await registry.metrics());
    assert.ok(families.has('process_cpu_user_seconds_total'));
    assert.deepEqual(
      families.get('h_seconds')!.samples.map((s) => s.value),
      [0, 1, 2, 5.005, 2],
    );
  });

  const rejects: Array<[string, string, RegExp]> = [
    ['no final newline', 'a 1', /end with a newline/],
    ['a bad value', 'a one\n', /not a sample value/],
    ['an unknown escape in a label', 'a{b="\\t"} 1\n', /invalid escape/],
    ['an unquoted label value', 'a{b=c} 1\n', /double-quoted/],
    ['a duplicate label', 'a{b="1",b="2"} 1\n', /duplicate label/],
    ['a reserved label name', 'a{__name__="x"} 1\n', /reserved/],
    ['a duplicate series', 'a{b="1"} 1\na{b="1"} 2\n', /duplicate series/],
    ['a TYPE after samples', 'a 1\n# TYPE a gauge\n', /after its samples/],
    ['two TYPE lines', '# TYPE a gauge\n# TYPE a counter\n', /second TYPE/],
    ['an unknown type', '# TYPE a meter\n', /unknown type/],
    ['a family split in two', 'a 1\nb 1\na{x="1"} 1\n', /two separate groups/],
    ['a negative counter', '# TYPE c counter\nc -1\n', /counter "c"/],
    ['a bucket without le', '# TYPE h histogram\nh_bucket 1\n', /no le label/],
    [
      'buckets that are not cumulative',
      '# TYPE h histogram\nh_bucket{le="1"} 5\nh_bucket{le="2"} 4\nh_bucket{le="+Inf"} 5\nh_sum 1\nh_count 5\n',
      /not cumulative/,
    ],
    ['a histogram without +Inf', '# TYPE h histogram\nh_bucket{le="1"} 5\nh_sum 1\nh_count 5\n', /\+Inf/],
    ['+Inf differing from _count', '# TYPE h histogram\nh_bucket{le="+Inf"} 5\nh_sum 1\nh_count 6\n', /differs from _count/],
    ['a timestamp that is not an integer', 'a 1 1.5\n', /timestamp/],
    ['garbage', '{a="b"} 1\n', /metric name/],
  ];
  for (const [what, text, message] of rejects) {
    it(`rejects ${what}`, () => {
      assert.throws(() => parsePromText(text), (err: unknown) => err instanceof PromParseError && message.test(err.message));
    });
  }
});
