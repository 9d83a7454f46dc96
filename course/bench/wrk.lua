-- One wrk script for every run; the request comes from the environment so that the
-- Python side can describe each endpoint as data.
--   BENCH_METHOD  GET (default) or POST
--   BENCH_TOKEN   a bearer token, sent as Authorization
--   BENCH_FORM    a urlencoded body, sent as an HTML form (the OAuth2 login)
wrk.method = os.getenv("BENCH_METHOD") or "GET"
local token = os.getenv("BENCH_TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end
local form = os.getenv("BENCH_FORM")
if form and form ~= "" then
  wrk.body = form
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

-- One machine-readable line at the end; latencies in microseconds. wrk counts a
-- status of 400 or more as an error: that is the "non-2xx" column (the API never
-- redirects, so nothing between 300 and 399 hides there).
function done(summary, latency, requests)
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "status_errors": %d, ' ..
    '"socket_errors": %d, "p50_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
