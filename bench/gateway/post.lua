-- wrk script of the gateway benchmark: POSTs the GraphQL body in the file named by BENCH_BODY and,
-- when done, prints one JSON line with the figures bench/gateway_compare.py reads.
-- With BENCH_ROTATE=N the body's __OFFSET__ becomes 0, 1, ..., N-1, 0, ... on successive requests,
-- so requests in flight together differ (no deduplication can merge them).
local file = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
local template = file:read("*a")
file:close()
wrk.method = "POST"
wrk.body = template
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"

local rotate = tonumber(os.getenv("BENCH_ROTATE") or "0")
if rotate > 0 then
  local counter = 0
  function request()
    counter = counter + 1
    local body = template:gsub("__OFFSET__", tostring(counter % rotate))
    return wrk.format(nil, nil, nil, body)
  end
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "seconds": %.6f, "non2xx": %d, "socket_errors": %d, "timeouts": %d, ' ..
    '"p50_ms": %.3f, "p95_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, "mean_ms": %.3f}\n',
    summary.requests, summary.duration / 1e6, errors.status,
    errors.connect + errors.read + errors.write, errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, latency.mean / 1000))
end
