-- wrk script for scripts/bench/server.sh: POST /api/recommend with 1 to 3 random seeds drawn
-- from the catalog's ids (MUSICREC_BENCH_FIRST..MUSICREC_BENCH_LAST), k = 10, method 1 or 2.
local first = tonumber(os.getenv("MUSICREC_BENCH_FIRST") or "1")
local last = tonumber(os.getenv("MUSICREC_BENCH_LAST") or "100000")
local methods = { "similarity", "genre" }

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
end

request = function()
  local seeds = {}
  for i = 1, math.random(1, 3) do
    seeds[i] = tostring(math.random(first, last))
  end
  local body = string.format('{"seeds":[%s],"k":10,"method":"%s"}',
    table.concat(seeds, ","), methods[math.random(1, 2)])
  return wrk.format("POST", "/api/recommend", { ["Content-Type"] = "application/json" }, body)
end

local errors = 0
response = function(status, headers, body)
  if status ~= 200 then
    errors = errors + 1
    if errors <= 3 then io.stderr:write("status " .. status .. ": " .. body .. "\n") end
  end
end

done = function(summary, latency, requests)
  io.write(string.format("requests/s: %.0f\n", summary.requests / (summary.duration / 1e6)))
  io.write(string.format("latency p50: %.2f ms  p90: %.2f ms  p99: %.2f ms  max: %.2f ms\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
  io.write(string.format("non-2xx: %d  socket errors: %d\n", summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
