-- wrk script for bench/measure.mjs and bench/scale.mjs: optional method, Origin and a rotation of session cookies
-- (one per line in the file named by BENCH_COOKIES); prints one JSON line with the results.
local method = os.getenv("BENCH_METHOD") or "GET"
local origin = os.getenv("BENCH_ORIGIN")
local cookies = {}
local cookie_file = os.getenv("BENCH_COOKIES")
if cookie_file and cookie_file ~= "" then
  for line in io.lines(cookie_file) do
    if line ~= "" then cookies[#cookies + 1] = line end
  end
end
local counter = 0

request = function()
  counter = counter + 1
  local headers = {}
  if #cookies > 0 then headers["Cookie"] = cookies[counter % #cookies + 1] end
  if origin then headers["Origin"] = origin end
  if method == "POST" then headers["Content-Type"] = "application/x-www-form-urlencoded" end
  return wrk.format(method, nil, headers, "")
end

done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,"socket_errors":%d,"non_2xx":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    errors.connect + errors.read + errors.write + errors.timeout, errors.status))
end
