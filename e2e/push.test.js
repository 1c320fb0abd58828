// End-to-end test of Web Push (docs/notifications.md, "Web Push"): a real `fireline
// serve` pages a person's subscribed browser through a local push service; the payload
// is decrypted here with Node's own crypto (an implementation independent of fireline's,
// RFC 8291), handed to the service worker in a real headless Chromium through DevTools'
// `ServiceWorker.deliverPushMessage`, and the notification it shows is acted on: its
// Acknowledge action acknowledges the incident without anyone signing in.
//
// Headless Chromium has no push service of its own, so the browser's subscription is
// made here (a P-256 key pair and an auth secret, as a browser makes them) and handed to
// fireline by the page's own script, exactly as after `pushManager.subscribe()`.
//
// Environment: as ui.test.js (FIRELINE_BIN, FIRELINE_TEST_BROWSER, CARGO_TARGET_DIR).
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn, execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');

const { BIN, BROWSER, SHOTS, WAIT, freePort, launchBrowser, apiCall } = require('./support');
const PERSON = 'pat';
const PASSWORD = 'correct horse battery staple';

let dir;
let server;
let serverLog = '';
let base;
let admin; // an admin API token
let browser;
let pushService; // the local push service
const pushed = []; // what it received: { path, headers, body }

/** Polls `check` every 50 ms until it returns something truthy, for at most `ms`. */
async function until(what, check, ms = WAIT) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${serverLog}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function listen(srv) {
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(srv.address().port)));
}

function api(method, route, body) {
  return apiCall(base, admin, method, route, body);
}

/** A browser's push subscription keys, as a browser makes them (RFC 8291 §2). */
function browserKeys() {
  const ecdh = crypto.createECDH('prime256v1');
  ecdh.generateKeys();
  return { ecdh, auth: crypto.randomBytes(16) };
}

/** Decrypts an `aes128gcm` push message body (RFC 8188 with RFC 8291's keys). */
function decrypt(body, { ecdh, auth }) {
  const salt = body.subarray(0, 16);
  const idlen = body[20];
  const senderKey = body.subarray(21, 21 + idlen);
  const ciphertext = body.subarray(21 + idlen);
  const shared = ecdh.computeSecret(senderKey);
  const info = Buffer.concat([Buffer.from('WebPush: info\0'), ecdh.getPublicKey(), senderKey]);
  const ikm = Buffer.from(crypto.hkdfSync('sha256', shared, auth, info, 32));
  const cek = Buffer.from(crypto.hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(crypto.hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const decipher = crypto.createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
  const padded = Buffer.concat([decipher.update(ciphertext.subarray(0, ciphertext.length - 16)), decipher.final()]);
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end -= 1;
  assert.equal(padded[end], 2, 'the last record ends with the 0x02 delimiter');
  return padded.subarray(0, end).toString('utf8');
}

before(async () => {
  assert.ok(fs.existsSync(BIN), `no fireline binary at ${BIN}`);
  assert.ok(fs.existsSync(BROWSER), `no Chromium at ${BROWSER}`);
  fs.mkdirSync(SHOTS, { recursive: true });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fireline-e2e-push-'));
  pushService = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      pushed.push({ path: req.url, headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(201).end();
    });
  });
  const pushPort = await listen(pushService);
  pushService.base = `http://127.0.0.1:${pushPort}`;
  const db = `sqlite://${path.join(dir, 'fireline.db')}`;
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  // Loopback allowed: the push service here listens on 127.0.0.1.
  const env = {
    ...process.env,
    FIRELINE_DATA_DIR: dir,
    FIRELINE_LOG: 'warn',
    FIRELINE_PUBLIC_URL: base,
    FIRELINE_OUTBOUND_ALLOW: 'loopback',
  };
  delete env.FIRELINE_CONFIG;
  delete env.FIRELINE_DB;
  const cli = { cwd: dir, env, encoding: 'utf8', timeout: WAIT, stdio: ['pipe', 'pipe', 'pipe'] };
  admin = execFileSync(BIN, ['--db', db, 'token', 'create', '--role', 'admin', '--name', 'e2e-admin'], cli).trim();
  execFileSync(BIN, ['--db', db, 'user', 'create', PERSON, '--role', 'responder', '--password-stdin'], {
    ...cli,
    input: `${PASSWORD}\n`,
  });
  server = spawn(BIN, ['serve', '--db', db, '--listen', `127.0.0.1:${port}`], {
    cwd: dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout.on('data', (d) => { serverLog += d; });
  server.stderr.on('data', (d) => { serverLog += d; });
  await until('fireline to answer /health', async () => {
    assert.equal(server.exitCode, null, `fireline serve exited:\n${serverLog}`);
    try {
      return (await fetch(`${base}/health`, { signal: AbortSignal.timeout(1000) })).ok;
    } catch {
      return false;
    }
  });
  // Pat is always on call on the primary schedule, which the default policy pages for
  // SEV1; pat's rules say: push, at once.
  await api('PUT', '/api/v1/roster', {
    people: {
      [PERSON]: {
        name: 'Pat Doe',
        contacts: [{ kind: 'email', address: 'pat@example.com' }],
        rules: [{ kind: 'push', after: '0m' }],
      },
    },
    schedules: {
      primary: {
        name: 'Primary',
        time_zone: 'UTC',
        layers: [{ name: 'always', participants: [PERSON], shift: '1w', start: '2026-01-05' }],
      },
    },
  });
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close().catch(() => {});
  if (server && server.exitCode === null) {
    await new Promise((resolve) => {
      server.once('exit', resolve);
      server.kill('SIGTERM');
    });
  }
  if (pushService) pushService.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('a page pushed to a subscribed phone is shown and acknowledged from the notification', { timeout: 120_000 }, async () => {
  const context = await browser.newContext({ viewport: { width: 375, height: 812 } });
  context.setDefaultTimeout(WAIT);
  await context.grantPermissions(['notifications'], { origin: base });
  const page = await context.newPage();
  const shot = (step) => page.screenshot({ path: path.join(SHOTS, `push-${step}.png`), fullPage: true });
  try {
    await page.goto(`${base}/ui/signin`);
    await page.getByLabel('Username').fill(PERSON);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByText(`${PERSON} (responder)`).waitFor();
    await page.getByRole('link', { name: 'On call' }).click();
    await page.getByRole('heading', { name: 'How fireline reaches me' }).waitFor();
    await page.getByText('No device gets your pages yet.').waitFor();
    // One tap: the service worker registers and the browser is asked for a push
    // subscription. Headless Chromium has no push service, so it says why it failed.
    await page.getByRole('button', { name: 'Get pages on this device' }).click();
    const outcome = await until('the button to report its outcome', async () => (await page.locator('#push-status').textContent()).trim());
    assert.match(outcome, /^(Could not subscribe this device: .+|This device now gets your pages)/, outcome);
    console.log(`# tapping "Get pages on this device" in headless Chromium: ${outcome}`);
    await shot('subscribe-tapped');
    const registered = await page.evaluate(async () => {
      const r = await navigator.serviceWorker.getRegistration('/ui/');
      return r ? r.scope : null;
    });
    assert.equal(registered, `${base}/ui/`, 'the service worker is registered for the UI');

    // The subscription a browser would have made, handed over by the page's script.
    const keys = browserKeys();
    const subscription = {
      endpoint: `${pushService.base}/push/pat-phone`,
      expirationTime: null,
      keys: {
        p256dh: keys.ecdh.getPublicKey().toString('base64url'),
        auth: keys.auth.toString('base64url'),
      },
    };
    const added = await page.evaluate(
      ([sub]) => window.firelinePush.send(document.getElementById('push-subscribe'), sub, 'Chromium (test)'),
      [subscription],
    );
    assert.equal(added.label, 'Chromium (test)');
    await page.reload();
    await page.getByText(/Chromium \(test\), since .* gets your pages/).waitFor();
    await shot('subscribed');

    // A SEV1 pages pat: the push service receives an encrypted, urgent message.
    const declared = await api('POST', '/api/v1/incidents', { title: 'Checkout 5xx', severity: 'SEV1', service: 'checkout' });
    const id = declared.id ?? declared.incident?.id;
    const message = await until('the push to reach the push service', () => pushed.find((p) => p.path === '/push/pat-phone'));
    assert.equal(message.headers['content-encoding'], 'aes128gcm');
    assert.equal(message.headers.urgency, 'high');
    assert.match(message.headers.authorization, /^vapid t=[\w-]+\.[\w-]+\.[\w-]+, k=[\w-]+$/);
    const plaintext = decrypt(message.body, keys);
    const payload = JSON.parse(plaintext);
    assert.match(payload.title, /SEV1.*Checkout 5xx/);
    assert.equal(payload.incident, id);
    assert.equal(payload.url, `${base}/ui/incidents/${id}`);
    assert.ok(payload.ack_url.startsWith(`${base}/ack/`), payload.ack_url);

    // Delivered to the service worker as the browser's push service would, once it is
    // active (a push that reaches a worker still installing is not shown).
    await until('the service worker to be active', () => page.evaluate(async () => {
      const r = await navigator.serviceWorker.getRegistration('/ui/');
      return Boolean(r && r.active && r.active.state === 'activated');
    }));
    const cdp = await context.newCDPSession(page);
    const registrations = [];
    cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => registrations.push(...e.registrations));
    await cdp.send('ServiceWorker.enable');
    const registration = await until('the service worker registration', () =>
      registrations.find((r) => r.scopeURL === `${base}/ui/` && !r.isDeleted));
    const notifications = () => page.evaluate(async () => {
      const r = await navigator.serviceWorker.getRegistration('/ui/');
      const ns = await r.getNotifications();
      return ns.length ? ns.map((n) => ({ title: n.title, body: n.body, tag: n.tag, actions: n.actions.map((a) => a.title), sticky: n.requireInteraction })) : null;
    });
    // DevTools hands the message to a worker it may first have to start; under load the
    // first hand-over is sometimes lost before the worker runs, so it is repeated (as a
    // push service redelivers what was not taken), a bounded number of times.
    let shown = null;
    for (let attempt = 1; attempt <= 3 && !shown; attempt += 1) {
      await cdp.send('ServiceWorker.deliverPushMessage', {
        origin: base,
        registrationId: registration.registrationId,
        data: plaintext,
      });
      shown = await until('the notification', notifications, WAIT / 2).catch(() => null);
      if (!shown) console.log(`# push hand-over ${attempt} showed nothing; repeating`);
    }
    assert.ok(shown, `no notification after three hand-overs\n${serverLog}`);
    assert.equal(shown.length, 1);
    assert.equal(shown[0].title, payload.title);
    assert.equal(shown[0].tag, id);
    assert.deepEqual(shown[0].actions, ['Acknowledge', 'Open']);
    assert.equal(shown[0].sticky, true, 'a page stays until it is dealt with');
    assert.match(shown[0].body, /Checkout 5xx/);

    // Its Acknowledge action, as a tap on the lock screen runs it: no session needed.
    const worker = await until('the service worker', () =>
      context.serviceWorkers().find((w) => w.url() === `${base}/ui/sw.js`));
    const said = await worker.evaluate(async () => {
      const [n] = await self.registration.getNotifications();
      return self.fireline.act(n.data, 'ack');
    });
    assert.equal(said, 'Acknowledged');
    const incident = await api('GET', `/api/v1/incidents/${id}`);
    const acknowledged = JSON.stringify(incident);
    assert.match(acknowledged, /"acknowledged/);
    assert.match(acknowledged, new RegExp(PERSON));
    // A second tap says it is done already.
    const again = await worker.evaluate(async (data) => self.fireline.act(data, 'ack'), payload);
    assert.equal(again, 'Already acknowledged, or resolved');
    await shot('acknowledged');
  } catch (e) {
    await shot('failure').catch(() => {});
    e.message += `\n--- fireline serve output ---\n${serverLog}`;
    throw e;
  } finally {
    await context.close();
  }
});
