-- wrk script for the steering bench: random viewers against control, either steering queries
-- (GET /v1/steering, operator token) or whole playback starts (POST /v1/playback with an
-- account's token, a profile, a title, and X-Forwarded-For set to a viewer address from the
-- world; control trusts 127.0.0.1 as a proxy). Prints a JSON summary from done().
--
-- Usage: wrk -s requests.lua <url> -- <steering|playback> <accounts> <clients> <titles> <regions> <operator-token>
-- Each file holds one item a line; accounts lines are "<token> <profileId>".

local mode, accounts, clients, titles, regions, operator

local function lines(path)
  local t = {}
  for l in io.lines(path) do
    if l ~= "" then t[#t + 1] = l end
  end
  return t
end

local function urlencode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function init(args)
  mode = args[1]
  accounts = {}
  for _, l in ipairs(lines(args[2])) do
    local token, profile = l:match("^(%S+) (%S+)$")
    accounts[#accounts + 1] = { token = token, profile = profile }
  end
  clients, titles, regions = lines(args[3]), lines(args[4]), lines(args[5])
  operator = args[6]
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)
end

function request()
  local client = clients[math.random(#clients)]
  local title = titles[math.random(#titles)]
  if mode == "steering" then
    local path = "/v1/steering?ip=" .. urlencode(client) .. "&titleId=" .. title .. "&region=" .. regions[math.random(#regions)]
    return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. operator })
  end
  local a = accounts[math.random(#accounts)]
  local body = '{"titleId":"' .. title .. '","profileId":"' .. a.profile .. '","device":"bench"}'
  return wrk.format("POST", "/v1/playback", {
    ["Authorization"] = "Bearer " .. a.token,
    ["Content-Type"] = "application/json",
    ["X-Forwarded-For"] = client,
  }, body)
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
