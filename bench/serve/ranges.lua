-- wrk script: random byte ranges over a list of files, uniform or Zipf-distributed, and a JSON
-- summary from done() so the bench parses numbers instead of scraping wrk's screen output.
--
-- Usage: wrk -s ranges.lua <url> -- <paths-file> <uniform|zipf> <min-bytes> <max-bytes> [zipf-s]
-- <paths-file> holds one "<path> <file-size>" per line; every path is requested against the
-- same host, so the same file drives nginx and the appliance.

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("thread_id", counter)
  table.insert(threads, thread)
end

local paths, sizes, cdf = {}, {}, nil
local mode, minLen, maxLen = "uniform", 1048576, 1048576

function init(args)
  local list = args[1]
  mode = args[2] or "uniform"
  minLen = tonumber(args[3] or "1048576")
  maxLen = tonumber(args[4] or tostring(minLen))
  local s = tonumber(args[5] or "1.0")
  for line in io.lines(list) do
    local p, n = line:match("^(%S+)%s+(%d+)$")
    if p then
      table.insert(paths, p)
      table.insert(sizes, tonumber(n))
    end
  end
  if #paths == 0 then error("no paths in " .. tostring(list)) end
  if mode == "zipf" then
    -- rank i (1-based, in list order) has weight 1/i^s; sample by binary search on the CDF
    cdf = {}
    local total = 0
    for i = 1, #paths do
      total = total + 1 / (i ^ s)
      cdf[i] = total
    end
    for i = 1, #paths do cdf[i] = cdf[i] / total end
  end
  math.randomseed(os.time() * 1000 + (thread_id or 0) * 7919)
end

local function pick()
  if cdf == nil then return math.random(1, #paths) end
  local u = math.random()
  local lo, hi = 1, #cdf
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if cdf[mid] < u then lo = mid + 1 else hi = mid end
  end
  return lo
end

function request()
  local i = pick()
  local len = minLen
  if maxLen > minLen then len = math.random(minLen, maxLen) end
  local size = sizes[i]
  if len > size then len = size end
  local start = math.random(0, size - len)
  return wrk.format("GET", paths[i], { ["Range"] = "bytes=" .. start .. "-" .. (start + len - 1) })
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\nWRK_JSON {"duration_us":%d,"requests":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"mean":%.1f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d}}\n',
    summary.duration, summary.requests, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.max, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9)))
end
