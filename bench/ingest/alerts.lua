-- wrk script: POSTs alerts with distinct label sets, N a request.
--   wrk ... -s alerts.lua URL -- FORMAT N
-- FORMAT is `webhook` (Alertmanager's webhook body, version 4, which fireline receives)
-- or `amapi` (the JSON array Alertmanager's own POST /api/v2/alerts takes).
-- Each request is one group (as Alertmanager sends them); every alert in the run has a
-- label set of its own, so neither side can fold repeats together.
-- At the end it prints one line: `RESULT requests=… non2xx=… errors=… seconds=… p50_ms=… p99_ms=…`.

local format, per_request = "webhook", 1
local counter = 0

local threads = {}

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  format = args[1] or format
  per_request = tonumber(args[2] or per_request)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

local starts = "2026-11-25T00:00:00Z"

local function alert(id)
  local labels = string.format(
    '{"alertname":"BenchAlert","instance":"host-%s","job":"bench","severity":"critical"}', id)
  local annotations = string.format('{"summary":"bench alert %s"}', id)
  if format == "amapi" then
    return string.format('{"labels":%s,"annotations":%s,"startsAt":"%s","generatorURL":"http://bench/%s"}',
      labels, annotations, starts, id)
  end
  return string.format(
    '{"status":"firing","labels":%s,"annotations":%s,"startsAt":"%s","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://bench/%s","fingerprint":"%s"}',
    labels, annotations, starts, id, id)
end

function request()
  counter = counter + 1
  local group = string.format("%d-%d", thread_id, counter)
  local parts = {}
  for i = 1, per_request do
    parts[i] = alert(string.format("%s-%d", group, i))
  end
  local alerts = "[" .. table.concat(parts, ",") .. "]"
  local body
  if format == "amapi" then
    body = alerts
  else
    body = string.format(
      '{"version":"4","groupKey":"{}:{group=\\"%s\\"}","status":"firing","receiver":"bench","groupLabels":{"group":"%s"},"commonLabels":{"job":"bench"},"commonAnnotations":{},"externalURL":"http://bench","truncatedAlerts":0,"alerts":%s}',
      group, group, alerts)
  end
  return wrk.format(nil, nil, nil, body)
end

function done(summary, latency, requests)
  local errors = summary.errors
  print(string.format(
    "RESULT requests=%d non2xx=%d errors=%d seconds=%.3f p50_ms=%.2f p99_ms=%.2f",
    summary.requests, errors.status, errors.connect + errors.read + errors.write + errors.timeout,
    summary.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(99) / 1e3))
end
