-- Fixed-rate pacing and one machine-readable result line for wrk (Debian's wrk has no
-- rate option). Every request asks `delay()` first; each wrk thread hands out send
-- slots `threads / rate` seconds apart on the monotonic clock, so the whole run offers
-- `rate` requests per second however fast the server answers. A connection that is
-- still waiting for its previous answer takes the next free slot; with enough
-- connections (rate x latency << connections) no slot is skipped, and wrk's latency
-- (from write to answer) is the server's latency at that rate.
--
-- Settings come from the environment: BENCH_RATE (requests/s over all threads; 0 or
-- unset = no pacing, i.e. saturation), BENCH_THREADS (wrk -t), and for a POST
-- BENCH_METHOD and BENCH_BODY.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clk_id, bench_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local ts = ffi.new("bench_timespec")

local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local rate = tonumber(os.getenv("BENCH_RATE") or "0") or 0
local threads = tonumber(os.getenv("BENCH_THREADS") or "1") or 1
local method = os.getenv("BENCH_METHOD")
local body = os.getenv("BENCH_BODY")

if method and method ~= "" then
  wrk.method = method
end
if body and body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end

local interval -- ms between two sends of this thread
local next_slot

function init(args)
  if rate > 0 then
    interval = threads * 1000 / rate
  end
end

if rate > 0 then
  function delay()
    local t = now_ms()
    if next_slot == nil then
      -- threads start together; spread their first slots over one interval
      next_slot = t + math.random() * interval
    end
    local wait = next_slot - t
    next_slot = next_slot + interval
    if wait < 0 then
      return 0
    end
    return math.floor(wait)
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT rps=%.1f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f requests=%d errors=%d non2xx=%d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.requests, e.connect + e.read + e.write + e.timeout, e.status))
end
