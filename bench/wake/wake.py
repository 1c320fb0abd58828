#!/usr/bin/env python3
"""Wake-up latency (bench/wake/run): alert arrival → SMS, ntfy and Web Push requests.

  wake.py FIRELINE_BIN WORK_DIR ALERTS

Starts stand-ins for Twilio's Messages API, an ntfy topic and a push service (each
records when every request arrived, with time.time_ns, the clock the sender's timestamps
use too), a fireline server configured to reach them, a roster whose one person is always
on call with SMS, ntfy and push at once, and a push device subscribed through the web UI
as a browser does. Then sends ALERTS critical alerts one at a time and reports, per
channel, the time from just before each alert's POST to its request's arrival.
"""
import base64
import http.cookiejar
import http.server
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

SID = "AC" + "0123456789abcdef" * 2
TOKEN = "bench-auth-token-0123456789abcdef"
FROM = "+15005550006"
PHONE = "+15551230001"
# RFC 8291's example browser keys: the push service here never decrypts.
P256DH = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
AUTH = "BTBZMqHH6r4Tts7J_aSIgg"
WAIT_S = 10


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Recorder:
    """Every request the stand-ins received: (channel, arrival ns, path, headers, body)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.seen = []
        self.faults = []

    def add(self, *row):
        with self.lock:
            self.seen.append(row)

    def after(self, channel, start):
        with self.lock:
            return [r for r in self.seen if r[0] == channel and r[1] >= start]


def stand_in(recorder):
    expected_auth = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes: without this, Nagle's algorithm and the
        # client's delayed ACK hold the body back about 40 ms, and that would be measured.
        disable_nagle_algorithm = True

        def log_message(self, *args):
            pass

        def do_POST(self):
            arrived = time.time_ns()
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            path = self.path
            if path == f"/2010-04-01/Accounts/{SID}/Messages.json":
                channel = "sms"
                if self.headers.get("Authorization") != expected_auth:
                    recorder.faults.append("an SMS without the account's Basic credentials")
                form = urllib.parse.parse_qs(body.decode())
                if form.get("To") != [PHONE] or form.get("From") != [FROM]:
                    recorder.faults.append(f"an SMS to {form.get('To')} from {form.get('From')}")
                answer = json.dumps({"sid": "SM" + "0" * 32, "status": "queued", "to": PHONE,
                                     "from": FROM, "account_sid": SID}).encode()
                status = 201
            elif path.startswith("/ntfy/"):
                channel = "ntfy"
                answer = json.dumps({"id": "bench", "time": int(time.time()), "event": "message",
                                     "topic": path.rsplit("/", 1)[1]}).encode()
                status = 200
            elif path.startswith("/push/"):
                channel = "push"
                if self.headers.get("Content-Encoding") != "aes128gcm":
                    recorder.faults.append("a push message that is not aes128gcm")
                answer = b""
                status = 201
            else:
                channel, answer, status = "unknown", b"", 404
            recorder.add(channel, arrived, path, dict(self.headers), body)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def until(what, check, seconds=WAIT_S):
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            sys.exit(f"timed out waiting for {what}")
        time.sleep(0.0005)


def call(opener, method, url, body=None, headers=None):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    with opener.open(request, timeout=WAIT_S) as response:
        return response.status, response.read().decode()


def percentile(values, p):
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
    return ordered[index]


def main():
    binary, work, count = os.path.abspath(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    recorder = Recorder()
    stand = stand_in(recorder)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    db = f"sqlite://{os.path.join(work, 'fireline.db')}"
    env = {**os.environ, "FIRELINE_DATA_DIR": work, "FIRELINE_LOG": "warn", "FIRELINE_PUBLIC_URL": base,
           "FIRELINE_OUTBOUND_ALLOW": "loopback", "FIRELINE_TWILIO_ACCOUNT_SID": SID,
           "FIRELINE_TWILIO_AUTH_TOKEN": TOKEN, "FIRELINE_TWILIO_FROM": FROM,
           "FIRELINE_TWILIO_API_URL": stand}
    env.pop("FIRELINE_CONFIG", None)
    run = lambda *args, **kw: subprocess.run([binary, "--db", db, *args], cwd=work, env=env, check=True,
                                             capture_output=True, text=True, **kw).stdout.strip()
    admin = run("token", "create", "--role", "admin", "--name", "bench-admin")
    key = run("integration", "create", "--service", "bench", "--name", "bench")
    run("user", "create", "pat", "--role", "responder", "--password-stdin", input="a bench passphrase\n")
    log = open(os.path.join(work, "server.log"), "w")
    server = subprocess.Popen([binary, "serve", "--db", db, "--listen", f"127.0.0.1:{port}"], cwd=work,
                              env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        plain = urllib.request.build_opener()
        def healthy():
            try:
                return call(plain, "GET", f"{base}/health")[0] == 200
            except OSError:
                return False
        until("fireline to start", healthy)
        bearer = {"Authorization": f"Bearer {admin}", "Content-Type": "application/json"}
        call(plain, "PUT", f"{base}/api/v1/roster", {
            "people": {"pat": {
                "name": "Pat Doe",
                "contacts": [{"kind": "sms", "address": PHONE},
                             {"kind": "ntfy", "address": f"{stand}/ntfy/pat-pages"}],
                "rules": [{"kind": "sms", "after": "0m"}, {"kind": "ntfy", "after": "0m"},
                          {"kind": "push", "after": "0m"}]}},
            "schedules": {"primary": {"name": "Primary", "time_zone": "UTC", "layers": [
                {"name": "always", "participants": ["pat"], "shift": "1w", "start": "2026-01-05"}]}},
        }, bearer)
        # Pat subscribes a device as the web UI's script does.
        jar = http.cookiejar.CookieJar()
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        call(browser, "POST", f"{base}/ui/signin", b"name=pat&password=a+bench+passphrase",
             {"Content-Type": "application/x-www-form-urlencoded"})
        page = call(browser, "GET", f"{base}/ui/oncall")[1]
        csrf = re.search(r'data-csrf="([^"]+)"', page).group(1)
        call(browser, "POST", f"{base}/ui/push/subscribe", {
            "subscription": {"endpoint": f"{stand}/push/pat-phone", "keys": {"p256dh": P256DH, "auth": AUTH}},
            "label": "bench phone"}, {"Content-Type": "application/json", "X-Fireline-CSRF": csrf})

        target = f"{base}/api/v1/integrations/{key}/alertmanager"
        delays = {"sms": [], "ntfy": [], "push": []}
        for i in range(count):
            title = f"wake-probe-{i} down"
            body = {"version": "4", "groupKey": f'{{}}:{{probe="{i}"}}', "status": "firing", "receiver": "bench",
                    "alerts": [{"status": "firing",
                                "labels": {"alertname": "WakeProbe", "probe": str(i), "severity": "critical"},
                                "annotations": {"summary": title},
                                "startsAt": "2026-12-05T00:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
                                "fingerprint": f"wake-{i}"}]}
            sent = time.time_ns()
            status, _ = call(plain, "POST", target, body, {"Content-Type": "application/json"})
            if status != 202:
                sys.exit(f"alert {i}: HTTP {status}")
            for channel in delays:
                rows = until(f"alert {i}'s {channel} request", lambda: recorder.after(channel, sent))
                arrived = rows[0]
                if channel != "push" and title.encode() not in urllib.parse.unquote_to_bytes(
                        arrived[4].replace(b"+", b" ")):
                    sys.exit(f"alert {i}: the {channel} request is not about it: {arrived[4][:200]!r}")
                delays[channel].append((arrived[1] - sent) / 1e6)
            # Each probe's requests are in before the next probe is sent.
        if recorder.faults:
            sys.exit("stand-ins found fault: " + "; ".join(sorted(set(recorder.faults))))
        load = os.getloadavg()
        print(f"alert arrival → request leaving fireline, {count} alerts, one at a time "
              f"(load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}):")
        for channel, values in delays.items():
            print(f"  {channel:5} p50 {percentile(values, 50):6.1f} ms   p99 {percentile(values, 99):6.1f} ms"
                  f"   max {max(values):6.1f} ms")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
