-- Paced wrk: every connection waits PACE_MS after each response before its
-- next request, so the offered load is about connections / (PACE_MS + latency)
-- and stays nearly the same for two proxies as long as latency << PACE_MS.
-- Debian's wrk has no -R (constant rate); this is the closest it gets.
-- Prints the same WRKJSON line as report.lua.
dofile("bench/wrk/report.lua")
local pace = tonumber(os.getenv("PACE_MS") or "10")
function delay()
  return pace
end
