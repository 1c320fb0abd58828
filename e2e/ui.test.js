// End-to-end test of the web UI (docs/ui.md, "Browser tests"): a real `fireline serve`
// on a fresh SQLite database, driven through a real headless Chromium by playwright-core.
// Assertions are on what the page shows (text, roles, labels), never on internals.
//
// Environment:
//   FIRELINE_BIN             the fireline binary [default: $CARGO_TARGET_DIR/debug/fireline,
//                            else <repo>/target/debug/fireline]
//   FIRELINE_TEST_BROWSER    Chromium's executable [default: /usr/bin/chromium]
//   CARGO_TARGET_DIR         also where screenshots go: <it>/e2e-screenshots
//                            [default: <repo>/target/e2e-screenshots]
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { REPO, BIN, BROWSER, SHOTS, WAIT, freePort, launchBrowser, apiCall } = require('./support');

const VIEWPORTS = {
  phone: { width: 375, height: 812 },
  desktop: { width: 1280, height: 800 },
};

let dir; // the temp directory: database, data dir, server log
let server; // the `fireline serve` child process
let serverLog = '';
let base; // http://127.0.0.1:PORT
let token; // a responder token, for the API calls that stand in for other people
let setupUrl; // the one-time set-up link `serve` printed on first start
let makeResponder; // creates the responder user (once the first admin exists)
let responderMade = false;
const RESPONDER = 'e2e-responder';
const PASSWORD = 'correct horse battery staple';
let browser;

/** Polls GET /health until it answers 200, for at most `ms`. */
async function waitHealthy(ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (server.exitCode !== null) {
      throw new Error(`fireline serve exited with ${server.exitCode}:\n${serverLog}`);
    }
    try {
      const r = await fetch(`${base}/health`, { signal: AbortSignal.timeout(1000) });
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw new Error(`fireline serve did not answer /health within ${ms} ms:\n${serverLog}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100)); // poll interval, bounded above
  }
}

function stopServer() {
  if (!server || server.exitCode !== null || server.signalCode !== null) {
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const kill = setTimeout(() => server.kill('SIGKILL'), 5000);
    server.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    server.kill('SIGTERM');
  });
}

// However the run ends, never leave the server behind.
process.on('exit', () => {
  if (server && server.exitCode === null) server.kill('SIGKILL');
});

function api(method, route, body) {
  return apiCall(base, token, method, route, body);
}

before(async () => {
  assert.ok(fs.existsSync(BIN), `no fireline binary at ${BIN} (cargo build -p fireline, or set FIRELINE_BIN)`);
  assert.ok(fs.existsSync(BROWSER), `no Chromium at ${BROWSER} (apt-get install chromium, or set FIRELINE_TEST_BROWSER)`);
  fs.mkdirSync(SHOTS, { recursive: true });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fireline-e2e-'));
  const db = `sqlite://${path.join(dir, 'fireline.db')}`;
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  // cwd is the temp dir, so no ./fireline.toml from elsewhere is picked up.
  const env = { ...process.env, FIRELINE_DATA_DIR: dir, FIRELINE_LOG: 'warn' };
  delete env.FIRELINE_CONFIG;
  delete env.FIRELINE_DB;
  server = spawn(
    BIN,
    ['serve', '--db', db, '--listen', `127.0.0.1:${port}`, '--runbooks', path.join(REPO, 'runbooks', 'examples')],
    { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  server.stdout.on('data', (d) => { serverLog += d; });
  server.stderr.on('data', (d) => { serverLog += d; });
  await waitHealthy(WAIT);
  // First start on an empty database: one line with the set-up link (it comes right
  // after the listener is up; bounded wait).
  const deadline = Date.now() + WAIT;
  while (!/\/ui\/setup\?code=/.test(serverLog)) {
    assert.ok(Date.now() < deadline, `no set-up link printed:\n${serverLog}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  setupUrl = serverLog.match(/open (http:\/\/\S+\/ui\/setup\?code=[0-9a-f]+)/)[1];
  const cli = { cwd: dir, env, encoding: 'utf8', timeout: WAIT };
  token = execFileSync(BIN, ['--db', db, 'token', 'create', '--role', 'responder', '--name', 'e2e-api'], {
    ...cli,
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
  assert.match(token, /^fl_/);
  // The responder user is made after the set-up link is used (any user voids it).
  makeResponder = () => execFileSync(BIN, ['--db', db, 'user', 'create', RESPONDER, '--role', 'responder', '--password-stdin'], {
    ...cli,
    input: `${PASSWORD}\n`,
  });
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close().catch(() => {});
  await stopServer();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** Full-page screenshot to <target>/e2e-screenshots/<viewport>-<nn>-<step>.png. */
function shooter(page, viewport) {
  let n = 0;
  return async (step) => {
    n += 1;
    const file = path.join(SHOTS, `${viewport}-${String(n).padStart(2, '0')}-${step}.png`);
    await page.screenshot({ path: file, fullPage: true });
  };
}

async function noHorizontalScroll(page, where) {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));
  assert.ok(scrollWidth <= innerWidth, `${where}: page scrolls sideways (${scrollWidth} > ${innerWidth})`);
}

/** Tabs through the whole page and returns the visible buttons Tab never reached. */
async function buttonsNotReachedByTab(page) {
  const count = await page.evaluate(
    () => document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea').length,
  );
  await page.evaluate(() => { document.activeElement && document.activeElement.blur(); });
  for (let i = 0; i < count + 2; i += 1) {
    await page.keyboard.press('Tab');
    await page.evaluate(() => { if (document.activeElement) document.activeElement.e2eReached = true; });
  }
  return page.evaluate(() =>
    [...document.querySelectorAll('button')]
      .filter((b) => b.offsetParent !== null && !b.e2eReached)
      .map((b) => b.textContent.trim()),
  );
}

test('first start: the one-time set-up link makes the first admin', { timeout: 60_000 }, async () => {
  const context = await browser.newContext({ viewport: VIEWPORTS.desktop });
  context.setDefaultTimeout(WAIT);
  const page = await context.newPage();
  const shot = shooter(page, 'setup');
  try {
    await page.goto(setupUrl);
    await page.getByRole('heading', { name: 'Set up fireline', level: 1 }).waitFor();
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel(/^Password \(at least/).fill('an admin passphrase');
    await page.getByLabel('Password again').fill('an admin passphrase');
    await shot('form');
    await page.getByRole('button', { name: 'Create admin and sign in' }).click();
    await page.getByRole('heading', { name: 'Incidents', level: 1 }).waitFor();
    await page.getByText('admin (admin)').waitFor();
    await page.getByRole('link', { name: 'Admin' }).waitFor();
    await shot('signed-in');
    // Sign out; the link does not work twice.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();
    await page.goto(setupUrl);
    await page.getByLabel('Username').fill('intruder');
    await page.getByLabel(/^Password \(at least/).fill('an intruder passphrase');
    await page.getByLabel('Password again').fill('an intruder passphrase');
    await page.getByRole('button', { name: 'Create admin and sign in' }).click();
    await page.getByText('This set-up link was used already').waitFor();
    await shot('used-twice');
    // The admin signs in with the password chosen.
    await page.goto(`${base}/ui/signin`);
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill('a wrong passphrase');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByText('wrong username or password').waitFor();
    await page.getByLabel('Password').fill('an admin passphrase');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByText('admin (admin)').waitFor();

    // The admin adds a viewer on the Admin page; the viewer signs in and only reads.
    await page.getByRole('link', { name: 'Admin' }).click();
    await page.getByRole('heading', { name: 'Admin', level: 1 }).waitFor();
    await page.getByText('Add a user', { exact: true }).click();
    const create = page.locator('form', { has: page.getByRole('button', { name: 'Create user' }) });
    await create.getByLabel('Username').fill('e2e-viewer');
    await create.getByLabel('Role').selectOption('viewer');
    await create.getByLabel('Password', { exact: true }).fill('a viewer passphrase');
    await create.getByLabel('Password again').fill('a viewer passphrase');
    await create.getByRole('button', { name: 'Create user' }).click();
    await page.getByRole('cell', { name: 'e2e-viewer', exact: true }).waitFor();
    await shot('admin-user-created');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Username').fill('e2e-viewer');
    await page.getByLabel('Password').fill('a viewer passphrase');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByText('e2e-viewer (viewer)').waitFor();
    assert.equal(await page.getByRole('link', { name: 'Admin' }).count(), 0, 'no Admin link for a viewer');
  } catch (e) {
    await shot('failure').catch(() => {});
    e.message += `\n--- fireline serve output ---\n${serverLog}`;
    throw e;
  } finally {
    await context.close();
  }
});

for (const [name, viewport] of Object.entries(VIEWPORTS)) {
  test(`incident lifecycle in the web UI at ${name} size (${viewport.width}x${viewport.height})`, { timeout: 120_000 }, async () => {
    const phone = name === 'phone';
    if (!responderMade) {
      makeResponder();
      responderMade = true;
    }
    // This run's screenshots only: none left over from an earlier (failed) run.
    for (const f of fs.readdirSync(SHOTS)) {
      if (f.startsWith(`${name}-`) && f.endsWith('.png')) fs.rmSync(path.join(SHOTS, f));
    }
    const context = await browser.newContext({ viewport });
    context.setDefaultTimeout(WAIT);
    const page = await context.newPage();
    const shot = shooter(page, name);
    try {
      // Sign in with a username and password.
      await page.goto(`${base}/ui/signin`);
      await page.getByLabel('Username').fill(RESPONDER);
      await page.getByLabel('Password').fill(PASSWORD);
      await shot('signin');
      // The list subscribes to the live feed on load; wait until the server has answered
      // it, so an incident declared afterwards is a change the feed reports.
      const feed = page.waitForResponse((r) => new URL(r.url()).pathname === '/ui/events', { timeout: WAIT });
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('heading', { name: 'Incidents', level: 1 }).waitFor();
      await page.getByText(`${RESPONDER} (responder)`).waitFor();
      await feed;
      await shot('incidents');
      if (phone) await noHorizontalScroll(page, 'incidents list');

      // Declared through the API while the page is open: it appears without a reload.
      const title = `Checkout 5xx on ${name}`;
      const declared = await api('POST', '/api/v1/incidents', { title, severity: 'SEV2', service: 'checkout' });
      const id = declared.id ?? declared.incident?.id;
      assert.match(String(id), /^INC-\d+$/, `declared: ${JSON.stringify(declared)}`);
      await page.getByRole('link', { name: id, exact: true }).waitFor();
      await page.getByRole('cell', { name: title }).waitFor();
      await page.getByText(/Live · updated/).waitFor();
      await shot('live-declared');
      if (phone) await noHorizontalScroll(page, 'incidents list with an incident');

      // Open it.
      await page.getByRole('link', { name: id, exact: true }).click();
      await page.getByRole('heading', { name: `${id} · ${title}`, level: 1 }).waitFor();
      await page.getByRole('button', { name: 'Acknowledge' }).waitFor();
      await shot('incident');

      // Runbook attached through the API, then a reload shows its checklist.
      await api('POST', `/api/v1/incidents/${id}/runbook`, { runbook: 'agent-down' });
      await page.reload();
      await page.getByRole('heading', { name: /^Runbook: / }).waitFor();
      const progress = page.getByText(/\d+ of \d+ steps/);
      await progress.waitFor();
      const fresh = (await progress.textContent()).match(/(\d+) of (\d+) steps/);
      assert.equal(fresh[1], '0', `fresh checklist: ${fresh[0]}`);
      const total = fresh[2];
      await shot('runbook');
      if (phone) {
        await noHorizontalScroll(page, 'incident with its runbook');
        const missed = await buttonsNotReachedByTab(page);
        assert.deepEqual(missed, [], `buttons Tab never reaches: ${missed.join(', ')}`);
      }

      // Acknowledge with the page's button.
      await page.getByRole('button', { name: 'Acknowledge' }).click();
      await page.getByRole('heading', { name: `${id} · ${title}`, level: 1 }).waitFor();
      await page.getByRole('definition').filter({ hasText: new RegExp(`^${RESPONDER} \\(`) }).waitFor();
      await page.getByRole('listitem').filter({ hasText: new RegExp(`· ${RESPONDER} · acknowledged$`) }).waitFor();
      assert.equal(await page.getByRole('button', { name: 'Acknowledge' }).count(), 0);
      await shot('acknowledged');

      // Someone else adds a note through the API: it appears on the open page by itself.
      const note = `Paged the database team (${name})`;
      const live = page.waitForResponse((r) => new URL(r.url()).pathname === '/ui/events', { timeout: WAIT });
      await page.reload();
      await live;
      await api('POST', `/api/v1/incidents/${id}/notes`, { text: note });
      await page.getByRole('listitem').filter({ hasText: note }).waitFor();
      await page.getByText(/Live · updated/).waitFor();
      await shot('live-note');

      // Write a status-page update from its template, preview it, then post it: the
      // timeline carries the text the preview showed.
      const update = `Rolled back checkout to 4f2b (${name})`;
      await page.getByLabel('Channel').selectOption('status_page');
      await page.getByLabel('Template').selectOption('status_page_update');
      await page.getByLabel('Update', { exact: true }).fill(update);
      await page.getByRole('button', { name: 'Preview' }).click();
      const preview = page.getByRole('region', { name: 'Preview' });
      await preview.waitFor();
      const previewed = (await preview.locator('pre').textContent()).trim();
      assert.ok(previewed.includes(update), `the preview carries the message: ${previewed}`);
      await shot('update-preview');
      await page.getByRole('button', { name: 'Post update' }).click();
      await page.getByRole('listitem').filter({ hasText: update }).waitFor();
      await shot('update-posted');

      // Check the first runbook step: progress moves to 1 of N.
      await page.getByRole('button', { name: 'Check', exact: true }).first().click();
      await page.getByText(`1 of ${total} steps`, { exact: true }).waitFor();
      await page.getByRole('button', { name: 'Uncheck', exact: true }).waitFor();
      await shot('step-checked');
      if (phone) await noHorizontalScroll(page, 'incident after acting');

      // Resolve.
      await page.getByLabel('Resolution summary (optional)').fill('Rollback fixed it.');
      await page.getByRole('button', { name: 'Resolve' }).click();
      await page.getByRole('definition').filter({ hasText: /^resolved$/ }).waitFor();
      await page.getByRole('listitem').filter({ hasText: 'Rollback fixed it.' }).waitFor();
      assert.equal(await page.getByRole('button', { name: 'Resolve' }).count(), 0);
      await shot('resolved');
      if (phone) await noHorizontalScroll(page, 'resolved incident');

      // Draft the post-mortem from the timeline and open it.
      await page.getByRole('button', { name: 'Draft post-mortem' }).click();
      await page.getByRole('heading', { name: new RegExp(`^${id} post-mortem`), level: 1 }).waitFor();
      await page.getByRole('article').filter({ hasText: title }).waitFor();
      await shot('postmortem');
      if (phone) await noHorizontalScroll(page, 'post-mortem');
    } catch (e) {
      await shot('failure').catch(() => {});
      e.message += `\n--- fireline serve output ---\n${serverLog}`;
      throw e;
    } finally {
      await context.close();
    }
  });
}
