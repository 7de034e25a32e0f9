-- One wrk script for every benchmarked path.
-- wrk ... -s piksend.lua URL -- MODE POOL_FILE BASIC VERIFIER REDIRECT_URI NTHREADS DELAY_MS
--   MODE: ceiling | me | introspect | refresh | code
-- Refresh tokens and codes are single-use: each thread takes every NTHREADS-th line of the
-- pool and hands each value to exactly one request; a thread that runs out stops (and says so).
-- Every non-2xx status, or a 2xx with the wrong body, counts as an error.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local function urlencode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function init(args)
  mode, pool_file, basic, verifier, redirect_uri = args[1], args[2], args[3], args[4], args[5]
  nthreads = tonumber(args[6])
  delay_ms = tonumber(args[7] or "0")
  errors, ok, exhausted, pos = 0, 0, 0, 0
  items = {}
  if pool_file ~= "-" then
    local i = 0
    for line in io.lines(pool_file) do
      if line ~= "" then
        if i % nthreads == id then items[#items + 1] = line end
        i = i + 1
      end
    end
  end
  form = { ["Content-Type"] = "application/x-www-form-urlencoded", ["Authorization"] = "Basic " .. basic }
  expect = ({
    ceiling = '"ok":true', me = '"email"', introspect = '"active":true',
    refresh = '"access_token"', code = '"access_token"',
  })[mode]
end

local function next_single_use()
  pos = pos + 1
  if pos > #items then
    exhausted = exhausted + 1
    wrk.thread:stop()
    return nil
  end
  return items[pos]
end

function request()
  if mode == "ceiling" then
    return wrk.format("GET", "/")
  elseif mode == "me" then
    pos = pos % #items + 1
    return wrk.format("GET", "/api/v1/me", { ["Authorization"] = "Bearer " .. items[pos] })
  elseif mode == "introspect" then
    pos = pos % #items + 1
    return wrk.format("POST", "/api/oauth/introspect", form, "token=" .. urlencode(items[pos]))
  elseif mode == "refresh" then
    local v = next_single_use() or "exhausted"
    return wrk.format("POST", "/api/oauth/token", form,
      "grant_type=refresh_token&refresh_token=" .. urlencode(v))
  elseif mode == "code" then
    local v = next_single_use() or "exhausted"
    return wrk.format("POST", "/api/oauth/token", form,
      "grant_type=authorization_code&code=" .. urlencode(v) .. "&redirect_uri=" ..
      urlencode(redirect_uri) .. "&code_verifier=" .. urlencode(verifier))
  end
end

if tonumber(os.getenv("WRK_DELAY_MS") or "0") > 0 then
  function delay() return delay_ms end
end

function response(status, headers, body)
  if status >= 200 and status < 300 and string.find(body, expect, 1, true) then
    ok = ok + 1
  else
    errors = errors + 1
    if errors <= 3 then io.stderr:write("error: " .. status .. " " .. string.sub(body, 1, 200) .. "\n") end
  end
end

function done(summary, latency, requests)
  local errs, oks, ex = 0, 0, 0
  for _, t in ipairs(threads) do
    errs = errs + t:get("errors")
    oks = oks + t:get("ok")
    ex = ex + t:get("exhausted")
  end
  local e = summary.errors
  local socket_errors = e.connect + e.read + e.write + e.timeout
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "ok": %d, "errors": %d, "socket_errors": %d, ' ..
    '"exhausted": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, oks, errs, socket_errors, ex,
    latency:percentile(50), latency:percentile(99)))
end
