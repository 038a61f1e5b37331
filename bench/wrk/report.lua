-- wrk done() hook: prints one machine-readable line with exact percentiles
-- (microseconds) from wrk's own latency histogram. bench/proxy.sh greps the
-- "WRKJSON " prefix; everything else wrk prints is kept in the run log.
done = function(summary, latency, requests)
  local e = summary.errors
  local duration_s = summary.duration / 1e6
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"rps":%.2f,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"min":%d,"mean":%.2f,"stdev":%.2f,"max":%d,' ..
    '"p50":%d,"p75":%d,"p90":%d,"p99":%d,"p999":%d}}\n',
    summary.requests, summary.duration, summary.bytes, summary.requests / duration_s,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.stdev, latency.max,
    latency:percentile(50), latency:percentile(75), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9)))
end
