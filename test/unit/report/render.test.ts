import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildReport, type Report } from '../../../src/report/build-report.ts';
import { renderHtml } from '../../../src/report/render-html.ts';
import { renderMarkdown } from '../../../src/report/render-md.ts';
import { bucket, counts, group, healthy, input, sample } from './report-fixtures.ts';

function mixedReport(): Report {
  const ok = healthy('api', '/same', 10, 9);
  const bad = healthy('api', '/products', 10, 14);
  const price = group('api', '/products', '$.data[*].price', 40);
  // Text that must be escaped, and a URL that may appear as text but never as a reference.
  const nasty = group('api', '/products', '$["<script>alert(1)</script>"]', 3);
  return buildReport(
    input({
      counts: [...ok.counts, ...counts('api', '/products', 957, 43)],
      buckets: [...ok.buckets, ...bad.buckets, bucket('api', '/thin', 'legacy', { n: 5, ms: 3 })],
      groups: [price, nasty],
      samples: new Map([
        [price.id, sample('/products?q=a|b', '$.data[*].price', 24.5, 26.95)],
        [nasty.id, sample('/products?next=https://evil.example/x.js', '$["<script>alert(1)</script>"]', 'https://evil.example/a.png', null)],
      ]),
    }),
  );
}

describe('renderMarkdown', () => {
  const md = renderMarkdown(mixedReport());

  it('states the verdict, the criteria and the endpoint summary table', () => {
    assert.match(md, /^# Cutover Go\/No-Go report: No-Go$/m);
    assert.match(md, /^\| Criterion \| Required \|$/m);
    assert.match(md, /^\| p95 ratio \(candidate \/ legacy\) \| at most 1\.1x \|$/m);
    assert.match(md, /^\| Route \| Endpoint \| Verdict \| Compared \| Mismatch rate \(upper\) \|/m);
    assert.match(md, /^\| api \| \/products \| No-Go \| 1000 \| 4\.30% \(5\.\d\d%\) \| 2 \|/m);
    assert.match(md, /^\| api \| \/same \| Go \| 1000 \|/m);
    assert.match(md, /^\| api \| \/thin \| insufficient data \| 0 \|/m);
  });

  it('has per-endpoint check, latency and difference tables with an example', () => {
    assert.match(md, /^#### \/products — No-Go$/m);
    assert.match(md, /^\| mismatch-groups \| FAIL \| 2 open mismatch groups \(43 mismatches\)/m);
    assert.match(md, /^\| latency \| FAIL \| p95 1\d\.\d\d ms vs 10\.\d\d ms = 1\.\d\dx, above the maximum 1\.1x \|$/m);
    assert.match(md, /^\| p95 \| 10\.\dms \| 1\d\.\dms \| 1\.\d\dx \|$/m);
    // The pipe in the example URL is escaped so the row keeps its columns.
    assert.match(md, /^\| 40 \| GET \| \$\.data\[\*\]\.price \| value \| open — blocking \| GET \/products\?q=a\\\|b \(200 vs 200\) at \$\.data\[0\]\.price: legacy 24\.5, candidate 26\.95 \|$/m);
  });

  it('every table row has as many cells as its header', () => {
    const lines = md.split('\n');
    const cellsOf = (l: string) => l.replace(/\\\|/g, '').split('|').length;
    for (let i = 0; i < lines.length; i++) {
      if (!lines[i]!.startsWith('| ---')) continue;
      const header = cellsOf(lines[i - 1]!);
      for (let j = i + 1; j < lines.length && lines[j]!.startsWith('|'); j++) assert.equal(cellsOf(lines[j]!), header, lines[j]);
    }
  });
});

describe('renderHtml', () => {
  const html = renderHtml(mixedReport());

  it('is one self-contained document: no scripts, no external references', () => {
    assert.match(html, /^<!doctype html>/);
    assert.equal((html.match(/<html/g) ?? []).length, 1);
    assert.doesNotMatch(html, /<script/i, 'no script element, not even from escaped data');
    assert.doesNotMatch(html, /<link\b/i);
    assert.doesNotMatch(html, /@import|url\(/i, 'no CSS fetches');
    assert.doesNotMatch(html, /\b(src|href|xlink:href|action|srcset)\s*=/i, 'no attribute that loads or links anything');
    // URLs may appear as escaped text from samples, never as markup.
    assert.match(html, /https:\/\/evil\.example\/x\.js/);
    assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  });

  it('draws the mismatch and latency charts as inline SVG, one bar per endpoint and side', () => {
    const svgs = html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
    assert.equal(svgs.length, 2);
    const [mismatch, latency] = svgs as [string, string];
    assert.match(mismatch, /aria-label="Mismatch rate per endpoint"/);
    // /products and /same have compared pairs; /thin has none.
    assert.equal((mismatch.match(/<rect /g) ?? []).length, 2);
    assert.match(mismatch, /api \/products: 4\.30%, upper bound 5\.\d\d%/);
    assert.match(latency, /aria-label="Latency legacy vs candidate per endpoint"/);
    // Two legend swatches, then legacy and candidate bars for /products and /same, and only legacy for /thin.
    assert.equal((latency.match(/<rect /g) ?? []).length, 2 + 2 + 2 + 1);
    assert.match(latency, />candidate: no data</, 'a missing side is labelled, not drawn');
  });

  it('carries the same verdicts as the markdown', () => {
    assert.match(html, /<h1>Cutover Go\/No-Go report <span class="badge verdict no-go">No-Go<\/span><\/h1>/);
    assert.match(html, /<h4>\/products <span class="badge no-go">No-Go<\/span><\/h4>/);
    assert.match(html, /<h4>\/same <span class="badge go">Go<\/span><\/h4>/);
  });
});
