-- wrk script for bench/bench.py: builds one fixed request from its arguments
-- and prints one machine-readable summary line.
--
--   wrk ... -s bench/report.lua URL -- METHOD BODYFILE|- 'Name: value' ...
--
-- No request()/response() function is defined, so wrk keeps its fast path:
-- the request is formatted once per thread and never parsed per response.
function init(args)
  wrk.method = args[1] or "GET"
  if args[2] and args[2] ~= "-" then
    local f = assert(io.open(args[2], "rb"))
    wrk.body = f:read("*a")
    f:close()
  end
  for i = 3, #args do
    local k, v = args[i]:match("^([^:]+):%s*(.*)$")
    -- Add to wrk.headers, never replace it: it holds the Host header.
    wrk.headers[k] = v
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "bytes": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "status": %d, "timeout": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, ' ..
    '"mean_us": %.1f, "max_us": %d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean, latency.max))
end
