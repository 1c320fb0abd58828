// What the browser tests share: where the binary and Chromium are, the bound on every
// wait, a free port, and launching Chromium. Not a test file (node --test runs
// `*.test.js` only).
'use strict';

const assert = require('node:assert/strict');
const net = require('node:net');
const path = require('node:path');
const { chromium } = require('playwright-core');

const REPO = path.resolve(__dirname, '..');
const TARGET = process.env.CARGO_TARGET_DIR
  ? path.resolve(process.env.CARGO_TARGET_DIR)
  : path.join(REPO, 'target');
const BIN = process.env.FIRELINE_BIN
  ? path.resolve(process.env.FIRELINE_BIN)
  : path.join(TARGET, 'debug', 'fireline');
const BROWSER = process.env.FIRELINE_TEST_BROWSER || '/usr/bin/chromium';
const SHOTS = path.join(TARGET, 'e2e-screenshots');
/** Every wait is bounded by this; nothing sleeps for a fixed time. */
const WAIT = 10_000;

/** A free loopback port (the kernel picks it; released just before the server binds it). */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Debian's Chromium, headless, never a downloaded browser. */
function launchBrowser() {
  return chromium.launch({
    executablePath: BROWSER,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** A JSON API call to `base` with `token`; fails the test on anything but 2xx. */
async function apiCall(base, token, method, route, body) {
  const r = await fetch(`${base}${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(WAIT),
  });
  const text = await r.text();
  assert.ok(r.ok, `${method} ${route}: ${r.status} ${text}`);
  return JSON.parse(text);
}

module.exports = { REPO, TARGET, BIN, BROWSER, SHOTS, WAIT, freePort, launchBrowser, apiCall };
