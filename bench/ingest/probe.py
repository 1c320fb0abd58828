#!/usr/bin/env python3
"""Two checks of the ingest benchmark that wrk cannot make (Python standard library only).

  probe.py latency URL KEY COUNT INTERVAL_MS OUT
      Posts COUNT Alertmanager webhooks of one critical alert each (a new group, so a new
      SEV1 incident that the default policy pages at once), INTERVAL_MS apart, and writes
      `dedup_key send_time_us` lines to OUT.
  probe.py pages DB SENT
      Reads the stopped server's SQLite database and prints, for the alerts in SENT,
      the time from sending each to the `paged` event of its incident: p50, p99, max.
  probe.py durable DB ACCEPTED
      Counts the alerts the stopped server's SQLite database holds (processed into the
      alert projection, or still in the inbox: the main file's and the inbox file
      `DB-inbox` beside it) and fails unless every accepted one is there.
"""
import json
import os
import sqlite3
import sys
import time
import urllib.request


def latency(url, key, count, interval_ms, out):
    lines = []
    target = f"{url}/api/v1/integrations/{key}/alertmanager"
    for i in range(int(count)):
        dedup = f"probe-{i}"
        body = {
            "version": "4",
            "groupKey": f'{{}}:{{probe="{i}"}}',
            "status": "firing",
            "receiver": "bench",
            "alerts": [{
                "status": "firing",
                "labels": {"alertname": "ProbeDown", "probe": str(i), "severity": "critical"},
                "annotations": {"summary": f"probe {i}"},
                "startsAt": "2026-11-25T00:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "fingerprint": dedup,
            }],
        }
        request = urllib.request.Request(
            target, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
        sent = time.time_ns() // 1000
        with urllib.request.urlopen(request) as response:
            if response.status != 202:
                sys.exit(f"probe {i}: HTTP {response.status}")
        lines.append(f"{dedup} {sent}\n")
        time.sleep(int(interval_ms) / 1000)
    with open(out, "w") as f:
        f.writelines(lines)


def percentile(sorted_values, p):
    index = min(len(sorted_values) - 1, max(0, round(p / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


def pages(db, sent_file):
    sent = {}
    with open(sent_file) as f:
        for line in f:
            dedup, at = line.split()
            sent[dedup] = int(at)
    con = sqlite3.connect(db)
    rows = con.execute(
        "SELECT a.dedup_key, MIN(e.at_us) FROM alerts a "
        "JOIN incident_events e ON e.incident = a.incident AND e.kind = 'paged' "
        "WHERE a.dedup_key LIKE 'probe-%' GROUP BY a.dedup_key").fetchall()
    found = {dedup: at for dedup, at in rows}
    missing = [d for d in sent if d not in found]
    if missing:
        sys.exit(f"{len(missing)} probe alerts were never paged (first: {missing[0]})")
    delays = sorted((found[d] - sent[d]) / 1000 for d in sent)
    print(f"receive-to-first-page over {len(delays)} alerts: "
          f"p50 {percentile(delays, 50):.1f} ms, p99 {percentile(delays, 99):.1f} ms, "
          f"max {delays[-1]:.1f} ms")
    print(f"PAGE_P99_MS={percentile(delays, 99):.1f}")


def durable(db, accepted):
    con = sqlite3.connect(db)
    processed = con.execute("SELECT COUNT(*) FROM alerts").fetchone()[0]
    # Receivers write to the inbox file beside the database (`<db>-inbox`); items already
    # applied (recorded in inbox_applied) are counted once, in `alerts`.
    applied = set()
    if con.execute("SELECT 1 FROM sqlite_master WHERE name = 'inbox_applied'").fetchone():
        applied = {row[0] for row in con.execute("SELECT id FROM inbox_applied")}
    pending = sum(len(json.loads(row[0])) for row in con.execute("SELECT alerts FROM alert_inbox"))
    if os.path.exists(db + "-inbox"):
        inbox = sqlite3.connect(db + "-inbox")
        pending += sum(len(json.loads(alerts)) for id_, alerts in
                       inbox.execute("SELECT id, alerts FROM alert_inbox") if id_ not in applied)
    stored = processed + pending
    print(f"durable: {int(accepted)} accepted, {stored} stored "
          f"({processed} processed into incidents, {pending} still in the inbox)")
    if stored < int(accepted):
        sys.exit(f"LOST: {int(accepted) - stored} accepted alerts are not in the database")


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    {"latency": latency, "pages": pages, "durable": durable}[command](*args)
