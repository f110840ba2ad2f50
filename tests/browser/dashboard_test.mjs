// The dashboard in a real browser: Playwright (playwright-core) drives Debian's chromium against
// a real mosquitto (TCP + WebSockets), the real swas-agent and the SWAS emulator on loopback.
//
//   node dashboard_test.mjs --agent PATH --emulator PATH --make-certs PATH --mosquitto PATH
//        --dashboard DIR [--chromium /usr/bin/chromium] [--screenshots DIR]
//
// The dashboard must be built (DIR/dist) and tests/browser/node_modules installed: ctest's
// browser.npm_setup fixture does both. Fails (never skips) when chromium is missing. Starts and
// always kills its processes, never runs longer than the watchdog, and prints "N passed, N failed".
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { killAll, makeCerts, startAgent, startEmulator, startMosquitto } from './processes.mjs';
import { emulatorState } from './emulator_admin.mjs';

const WATCHDOG_MS = 180000;
const UI_TIMEOUT_MS = 20000;
const GATEWAY = 'gw-browser';
const QUIET_GATEWAY = 'gw-quiet';   // an agent with follow.enabled false: no lifecycle messages
const RUNNING = 'ace0706b2ac4454d984295a94213b001';
const STOPPED = 'ace0706b2ac4454d984295a94213b002';
const SLOW = 'ace0706b2ac4454d984295a94213b003';      // Stopping for 1.5 s, then Stopped
const BOUNCE = 'ace0706b2ac4454d984295a94213b004';    // Stopping for 0.5 s, then Running again
const STUCK = 'ace0706b2ac4454d984295a94213b005';     // Stopping for ever
const QUIET = 'ace0706b2ac4454d984295a94213b006';     // stopped through gw-quiet
// Stopped together, pasted as a list (one StopInstances call); each Stopping for its own time.
const LIST = ['ace0706b2ac4454d984295a94213b007', 'ace0706b2ac4454d984295a94213b008', 'ace0706b2ac4454d984295a94213b009'];
const FORCED = 'ace0706b2ac4454d984295a94213b010';    // force-stopped alone (InstanceIds of one, ForceStop)
// Stopped through gw-paced, whose agent allows one StopInstances call in 5 s (cloud.quota): two
// lists in a row, the second queued for the rate limit.
const PACED_GATEWAY = 'gw-paced';
const PACED_QUOTA = { StopInstances: '1/5s' };
const PACED = [['ace0706b2ac4454d984295a94213b011', 'ace0706b2ac4454d984295a94213b012'],
  ['ace0706b2ac4454d984295a94213b013', 'ace0706b2ac4454d984295a94213b014']];
const REGION = 'cn-hangzhou';
// The agent follows each stop with ListInstanceStatus every 200 ms and gives up after 5 s.
const FOLLOW = { interval_ms: 200, deadline_s: 5 };
const LIFECYCLE_QUIET_MS = 60000;   // dashboard/src/model.js
const AK_ID = 'LTAI5tBrowserTestKey01';
const AK_SECRET = 'BrowserTestSecret-d0n0tl0g';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
};
const opts = {
  agent: arg('--agent'), emulator: arg('--emulator'), makeCerts: arg('--make-certs'), mosquitto: arg('--mosquitto'),
  dashboard: arg('--dashboard', path.resolve(here, '../../dashboard')), chromium: arg('--chromium', '/usr/bin/chromium'),
  screenshots: process.env.SWAS_SCREENSHOT_DIR || arg('--screenshots', path.join(os.tmpdir(), 'swas-dashboard-screenshots')),
};

let tmpDir = null;
let context = null;
const procs = {};

function dumpLogs() {
  for (const p of Object.values(procs)) if (p?.child) console.error(p.child.tail());
}
function cleanup() {
  killAll();
  if (tmpDir && !process.env.SWAS_KEEP_TEST_DIRS) rmSync(tmpDir, { recursive: true, force: true });
  tmpDir = null;
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => { console.error(`FAIL: interrupted by ${sig}`); process.exit(1); });
}
const watchdog = setTimeout(() => {
  console.error(`FAIL: watchdog: the browser test did not finish within ${WATCHDOG_MS / 1000} s`);
  dumpLogs();
  process.exit(1);
}, WATCHDOG_MS);

function fatal(msg) {
  console.error(`FAIL: ${msg}`);
  console.log('dashboard: 0 passed, 1 failed');
  dumpLogs();
  process.exit(1);
}

// ---------------------------------------------------------------------------------------------

const results = { passed: 0, failed: 0 };
async function check(name, fn) {
  try {
    await fn();
    results.passed++;
    console.log(`ok   ${name}`);
  } catch (e) {
    results.failed++;
    console.log(`FAIL ${name}\n     ${String((e && e.stack) || e).split('\n').slice(0, 6).join('\n     ')}`);
  }
}
function assert(cond, msg) { if (!cond) throw new Error(msg); }

const card = (page, gateway = GATEWAY) => page.locator(`article.gateway[data-gateway="${gateway}"]`);

async function waitForGatewayState(page, state, gateway = GATEWAY) {
  await card(page, gateway).locator('.gateway-state', { hasText: new RegExp(`^${state}$`) })
    .waitFor({ timeout: UI_TIMEOUT_MS });
}

async function fillStop(page, instanceId, gateway = GATEWAY, force = false) {
  await page.fill('#stop-gateway', gateway);
  await page.fill('#stop-instance', instanceId);
  await page.fill('#stop-region', REGION);
  await page.setChecked('#stop-force', force);
  await page.click('#stop-review');
}

// Sends a stop through the form and its confirmation; returns the new history item (found by
// its command id, so it stays that item when newer ones are added above it).
async function stopThroughForm(page, instanceId, gateway = GATEWAY) {
  const before = await page.locator('#history > li').count();
  await fillStop(page, instanceId, gateway);
  await page.locator('#confirm').waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
  const ids = instanceId.split(/\s+/);  // one id, or a list separated by spaces or new lines
  const named = ids.length === 1 ? [await page.locator('#confirm-instance').textContent()]
    : await page.locator('#confirm-instance li').allTextContents();
  assert(JSON.stringify(named) === JSON.stringify(ids), `confirmation names ${JSON.stringify(named)}`);
  await page.click('#confirm-stop');
  await page.locator('#history > li').nth(before).waitFor({ timeout: UI_TIMEOUT_MS });
  const id = await page.locator('#history > li').first().getAttribute('data-command-id');
  const item = page.locator(`#history > li[data-command-id="${id}"]`);
  await item.locator('xpath=self::*[@data-phase="ok" or @data-phase="failed"]').waitFor({ timeout: UI_TIMEOUT_MS });
  return item;
}

// A history item's lifecycle part, once it shows `state` (a final outcome, "progress",
// "following" or "quiet").
async function waitForLifecycle(item, state, timeout = UI_TIMEOUT_MS) {
  const block = item.locator(`.lifecycle[data-lifecycle="${state}"]`);
  await block.waitFor({ timeout });
  return block;
}

// Records, in the page, every text the lifecycle lines of the history show, in order (a
// MutationObserver sees each DOM change, however short-lived): window.lifecycleSeen[commandId]
// = [{state, text}]. So the test sees "Stopping…" even when it lasted a moment.
async function recordLifecycles(page) {
  await page.evaluate(() => {
    window.lifecycleSeen = {};
    const list = document.getElementById('history');
    const record = () => {
      for (const li of list.children) {
        const block = li.querySelector('.lifecycle');
        if (!block) continue;
        const seen = (window.lifecycleSeen[li.dataset.commandId] ??= []);
        const now = { state: block.dataset.lifecycle, text: block.querySelector('.lifecycle-state').textContent };
        const last = seen[seen.length - 1];
        if (!last || last.state !== now.state || last.text !== now.text) seen.push(now);
      }
    };
    new MutationObserver(record).observe(list, { subtree: true, childList: true, characterData: true });
    record();
  });
}
const lifecycleSeen = async (page, item) => page.evaluate((id) => window.lifecycleSeen[id] ?? [],
  await item.getAttribute('data-command-id'));

// A second MQTT client (MQTT.js from dashboard/node_modules) that sees every reply the agents
// send, with its topic and correlation data, and can publish on that route like an agent.
async function replySnooper(brokerUri) {
  const mqtt = createRequire(path.resolve(opts.dashboard, 'package.json'))('mqtt');
  const client = await mqtt.connectAsync(brokerUri, { protocolVersion: 5, clean: true, reconnectPeriod: 0 });
  const replies = [];
  client.on('message', (topic, payload, packet) => {
    let msg = null;
    try { msg = JSON.parse(payload.toString('utf8')); } catch { /* not ours to judge */ }
    replies.push({ topic, msg, correlationData: packet.properties?.correlationData });
  });
  await client.subscribeAsync('swas/+/replies/#', { qos: 1 });
  return {
    client,
    find: (pred) => replies.find((r) => r.msg && pred(r.msg)),
    publish: (reply, payload) => client.publishAsync(reply.topic, typeof payload === 'string' ? payload : JSON.stringify(payload),
      { qos: 1, properties: { correlationData: reply.correlationData } }),
  };
}

async function waitUntil(what, fn, ms = UI_TIMEOUT_MS) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function runChecks(page, emulatorPort) {
  await check('(a) the page connects over WebSockets and shows the gateway online (retained status)', async () => {
    await page.locator('#connection', { hasText: 'Connected' }).waitFor({ timeout: UI_TIMEOUT_MS });
    await waitForGatewayState(page, 'online');
    const meta = await card(page).locator('.gateway-meta').textContent();
    assert(/v\d+\.\d+\.\d+/.test(meta), `no version in "${meta}"`);
  });

  await check('(b) bad input is refused in the page, and Cancel sends nothing', async () => {
    await fillStop(page, '');
    assert(await page.locator('#stop-error').isVisible(), 'no error for an empty InstanceId');
    assert(!(await page.locator('#confirm').isVisible()), 'confirmation shown for an empty InstanceId');
    // A pasted list with markup, or an id twice: refused in the page, the error shown as text.
    await fillStop(page, `${RUNNING}\n<img src=x onerror=alert(1)>`);
    const bad = await page.locator('#stop-error').textContent();
    assert(/"<img" \(item 2\) is not an InstanceId/.test(bad), `error "${bad}"`);
    assert(!(await page.locator('#stop-error img').count()), 'markup from the form was parsed');
    await fillStop(page, `${RUNNING} ${STOPPED} ${RUNNING}`);
    assert(/listed twice/.test(await page.locator('#stop-error').textContent()), 'a repeated id is not refused');
    assert(!(await page.locator('#confirm').isVisible()), 'confirmation shown for a bad list');
    await fillStop(page, RUNNING);
    await page.locator('#confirm').waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
    await page.click('#confirm-cancel');
    assert(!(await page.locator('#confirm').isVisible()), 'confirmation still shown after Cancel');
    assert((await page.locator('#history > li').count()) === 0, 'Cancel added a command');
    const s = await emulatorState(emulatorPort, opts.caFile);
    assert(Number(s.requests) === 0, `the cloud got ${s.requests} requests before any confirmation`);
  });

  await check('(c) a stop through the form and its confirmation shows the RequestId', async () => {
    const item = await stopThroughForm(page, RUNNING);
    assert((await item.getAttribute('data-phase')) === 'ok', `phase ${await item.getAttribute('data-phase')}`);
    const requestId = (await item.locator('.request-id').textContent()).trim();
    assert(/^[0-9A-F-]{20,}$/i.test(requestId), `RequestId "${requestId}"`);
    assert((await item.locator('.steps li.done').count()) === 3, 'progress does not show sent, waiting and result done');
    const s = await emulatorState(emulatorPort, opts.caFile);
    assert(Number(s.stops?.[RUNNING]) === 1, `stops[${RUNNING}] = ${s.stops?.[RUNNING]}, want 1`);
  });

  await check('(d) a stop of a stopped instance shows IncorrectInstanceStatus, its message and a hint', async () => {
    const item = await stopThroughForm(page, STOPPED);
    assert((await item.getAttribute('data-phase')) === 'failed', `phase ${await item.getAttribute('data-phase')}`);
    assert((await item.locator('.result-code').textContent()) === 'IncorrectInstanceStatus', 'wrong code');
    assert((await item.locator('.result-message').textContent()).length > 0, 'no message');
    assert(await item.locator('.hint').isVisible(), 'no hint');
    assert((await item.locator('button').count()) === 0, 'a retry is offered for a final answer');
    assert((await page.locator('#history > li').count()) === 2, 'history does not hold both commands');
  });

  await check('(e) the gateway\'s counters follow the commands (status after each command)', async () => {
    await card(page).locator('.counter-received', { hasText: /^2$/ }).waitFor({ timeout: UI_TIMEOUT_MS });
    const ok = await card(page).locator('.counter-succeeded').textContent();
    assert(ok === '1', `succeeded ${ok}, want 1`);
  });

  await check('(f) screenshots at 1280x900 and 390x844; no sideways scrolling on the phone', async () => {
    await waitForLifecycle(page.locator('#history > li').last(), 'Stopped');  // (c)'s stop, followed to its end
    mkdirSync(opts.screenshots, { recursive: true });
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(opts.screenshots, 'dashboard-desktop.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert(width <= 390, `page is ${width} px wide at 390`);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(opts.screenshots, 'dashboard-phone.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  await check('(g) a stop shows the instance Stopping… with the time passing, then "Stopped in N s"', async () => {
    await recordLifecycles(page);
    const item = await stopThroughForm(page, SLOW);
    assert((await item.getAttribute('data-phase')) === 'ok', `phase ${await item.getAttribute('data-phase')}`);
    const block = await waitForLifecycle(item, 'Stopped');
    const text = (await block.locator('.lifecycle-state').textContent()).trim();
    const m = /^Stopped in (\d+\.\d) s$/.exec(text);
    assert(m, `final line "${text}"`);
    // The emulator keeps it Stopping for 1.5 s after the stop; the agent counts from before it.
    assert(Number(m[1]) >= 1.0 && Number(m[1]) < 60, `stopped in ${m[1]} s, but it was Stopping for 1.5 s`);
    const seen = await lifecycleSeen(page, item);
    const states = seen.map((s) => s.state);
    const stopping = seen.find((s) => s.state === 'progress');
    assert(stopping && /^Stopping…\s*\d+ s$/.test(stopping.text), `never showed "Stopping… N s": ${JSON.stringify(seen)}`);
    assert(states.indexOf('progress') < states.indexOf('Stopped'), `order ${states.join(' → ')}`);
    assert(!(await item.locator('.spinner').count()), 'a spinner is left after the final state');
    const s = await emulatorState(emulatorPort, opts.caFile);
    assert(Number(s.actions?.ListInstanceStatus) > 0, `the agent never called ListInstanceStatus: ${JSON.stringify(s.actions)}`);
  });

  await check('(h) the instance back to Running shows UnexpectedStatus, one stuck Stopping TimedOut, each with its message and advice', async () => {
    const bounce = await stopThroughForm(page, BOUNCE);
    const stuck = await stopThroughForm(page, STUCK);
    const unexpected = await waitForLifecycle(bounce, 'UnexpectedStatus');
    const title = (await unexpected.locator('.lifecycle-title').textContent()).trim();
    assert(title === 'Not stopped: the instance is Running', `title "${title}"`);
    assert((await unexpected.locator('.lifecycle-message').textContent()).length > 'Gateway: '.length, 'no message from the agent');
    assert(/stop it again/.test(await unexpected.locator('.lifecycle-advice').textContent()), 'no advice');
    assert(await unexpected.locator('button', { hasText: 'Stop again' }).isVisible(), 'no Stop again… for a running instance');
    assert((await bounce.getAttribute('data-lifecycle-tone')) === 'bad', 'the item is not marked bad');

    const timedOut = await waitForLifecycle(stuck, 'TimedOut', FOLLOW.deadline_s * 1000 + UI_TIMEOUT_MS);
    const line = (await timedOut.locator('.lifecycle-title').textContent()).trim();
    assert(/^Still Stopping after \d+\.\d s$/.test(line), `title "${line}"`);
    assert(/Stopping/.test(await timedOut.locator('.lifecycle-message').textContent()), 'the agent\'s message is not shown');
    assert(/console/.test(await timedOut.locator('.lifecycle-advice').textContent()), 'no advice');
    // Stopping for 5 s: the time shown moved while it lasted.
    const ticks = new Set((await lifecycleSeen(page, stuck)).filter((s) => s.state === 'progress').map((s) => s.text));
    assert(ticks.size >= 2, `the elapsed time did not move: ${[...ticks].join(' | ')}`);
    // The history with every kind of ending so far (docs/fleet.md shows it).
    // (A clip of the full page scrolled to the top: an element screenshot would scroll it under
    // the sticky top bar.)
    await page.evaluate(() => window.scrollTo(0, 0));
    const box = await page.locator('section[aria-labelledby="history-title"]').boundingBox();
    await page.screenshot({ path: path.join(opts.screenshots, 'dashboard-lifecycle.png'), fullPage: true, clip: box });
    await page.setViewportSize({ width: 390, height: 844 });
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    await page.setViewportSize({ width: 1280, height: 900 });
    assert(width <= 390, `page is ${width} px wide at 390 with the lifecycle outcomes`);
  });

  await check('(i) a pasted list of 3 instances: one confirmation naming 3, one command, one StopInstances call, all 3 Stopped', async () => {
    const before = await emulatorState(emulatorPort, opts.caFile);
    const items = await page.locator('#history > li').count();
    await page.fill('#stop-gateway', GATEWAY);
    // As pasted from a spreadsheet or a console: new lines, a comma, stray spaces.
    await page.fill('#stop-instance', `${LIST[0]}\n ${LIST[1]},${LIST[2]}\n`);
    await page.fill('#stop-region', REGION);
    await page.setChecked('#stop-force', false);
    await page.locator('#stop-count', { hasText: /^3 instances$/ }).waitFor({ timeout: UI_TIMEOUT_MS });
    await page.click('#stop-review');
    await page.locator('#confirm').waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
    const title = await page.locator('#confirm-title').textContent();
    assert(title === `Stop 3 instances in ${REGION}?`, `confirmation title "${title}"`);
    const listed = await page.locator('#confirm-instance li').allTextContents();
    assert(JSON.stringify(listed) === JSON.stringify(LIST), `confirmation lists ${JSON.stringify(listed)}`);
    assert(!(await page.locator('#confirm-force-row').isVisible()), 'force stop shown without the checkbox');
    assert((await page.locator('#confirm-stop').textContent()) === 'Stop 3 instances', 'the button does not name 3');
    const mid = await emulatorState(emulatorPort, opts.caFile);
    assert(Number(mid.requests) === Number(before.requests), 'the cloud was called before the confirmation');
    await page.click('#confirm-stop');
    assert(!(await page.locator('#confirm').isVisible()), 'the confirmation is still shown');
    await page.locator('#history > li').nth(items).waitFor({ timeout: UI_TIMEOUT_MS });
    assert((await page.locator('#history > li').count()) === items + 1, 'more than one command for the list');
    const id = await page.locator('#history > li').first().getAttribute('data-command-id');
    const item = page.locator(`#history > li[data-command-id="${id}"]`);
    await item.locator('xpath=self::*[@data-phase="ok" or @data-phase="failed"]').waitFor({ timeout: UI_TIMEOUT_MS });
    assert((await item.getAttribute('data-phase')) === 'ok',
      `phase ${await item.getAttribute('data-phase')}: ${await item.locator('.result').textContent()}`);
    assert((await item.locator('.cmd-title').textContent()) === `3 instances · ${REGION}`, 'the item does not name 3 instances');
    // Each instance followed on its own to Stopped, under the one command.
    for (const instance of LIST) {
      const row = item.locator(`.instances > li[data-instance-id="${instance}"]`);
      const done = await waitForLifecycle(row, 'Stopped');
      const text = (await done.locator('.lifecycle-state').textContent()).trim();
      assert(/^Stopped in \d+\.\d s$/.test(text), `${instance}: "${text}"`);
    }
    assert((await item.locator('.instances > li').count()) === 3, 'not one line per instance');
    const summary = (await item.locator('.lifecycle-summary').textContent()).trim();
    assert(summary === '3 of 3 Stopped', `summary "${summary}"`);
    assert((await item.getAttribute('data-lifecycle-tone')) === 'ok', 'the item is not marked ok');
    const after = await emulatorState(emulatorPort, opts.caFile);
    const calls = (s, action) => Number(s.actions?.[action] ?? 0);
    assert(calls(after, 'StopInstances') - calls(before, 'StopInstances') === 1,
      `StopInstances calls: ${calls(before, 'StopInstances')} -> ${calls(after, 'StopInstances')}, want one more`);
    assert(calls(after, 'StopInstance') === calls(before, 'StopInstance'), 'a StopInstance call was made for the list');
    for (const instance of LIST) assert(Number(after.stops?.[instance]) === 1, `stops[${instance}] = ${after.stops?.[instance]}`);
    const entry = after.log.filter((e) => e.action === 'StopInstances').pop();
    assert(entry.InstanceIds === JSON.stringify(LIST), `the cloud got InstanceIds ${entry.InstanceIds}`);
    assert(entry.ForceStop === '', `ForceStop "${entry.ForceStop}" without the checkbox`);
    await page.setViewportSize({ width: 390, height: 844 });
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    // The item on the phone (docs/fleet.md shows it).
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(opts.screenshots, 'dashboard-instances.png'), fullPage: true,
      clip: await item.boundingBox() });
    await page.setViewportSize({ width: 1280, height: 900 });
    assert(width <= 390, `page is ${width} px wide at 390 with a list of instances`);
  });

  await check('(j) force stop of one instance: the confirmation warns, the command is InstanceIds with ForceStop', async () => {
    await fillStop(page, FORCED, GATEWAY, true);
    await page.locator('#confirm-force-row').waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
    assert((await page.locator('#confirm-title').textContent()) === 'Stop this instance?', 'one instance, but a count');
    await page.click('#confirm-stop');
    const id = await page.locator('#history > li').first().getAttribute('data-command-id');
    const item = page.locator(`#history > li[data-command-id="${id}"]`);
    await item.locator('xpath=self::*[@data-phase="ok" or @data-phase="failed"]').waitFor({ timeout: UI_TIMEOUT_MS });
    assert((await item.getAttribute('data-phase')) === 'ok', `phase ${await item.getAttribute('data-phase')}`);
    assert((await item.locator('.cmd-title').textContent()) === `${FORCED} · ${REGION} · force stop`, 'not marked force stop');
    await waitForLifecycle(item, 'Stopped');
    const s = await emulatorState(emulatorPort, opts.caFile);
    const entry = s.log.filter((e) => e.action === 'StopInstances').pop();
    assert(entry.InstanceIds === JSON.stringify([FORCED]) && entry.ForceStop === 'true',
      `the cloud got InstanceIds ${entry.InstanceIds}, ForceStop "${entry.ForceStop}"`);
  });

  await check('(k) a gateway pacing StopInstances to its quota: the second list shows "Queued for the cloud\'s rate limit", then its result', async () => {
    procs.pacedAgent = await startAgent(opts.agent, tmpDir, {
      name: 'paced', gatewayId: PACED_GATEWAY, mqttUri: procs.mosquitto.uri, endpoint: procs.emulator.endpoint,
      caFile: opts.caFile, accessKeyId: AK_ID, accessKeySecret: AK_SECRET, follow: FOLLOW, quota: PACED_QUOTA,
    });
    await waitForGatewayState(page, 'online', PACED_GATEWAY);
    const first = await stopThroughForm(page, PACED[0].join('\n'), PACED_GATEWAY);
    assert((await first.getAttribute('data-phase')) === 'ok', `first list: phase ${await first.getAttribute('data-phase')}`);
    assert(!(await first.locator('.progress-note').count()), 'the first list was queued');
    // The second right after: its turn comes about 5 s after the first call.
    await fillStop(page, PACED[1].join(' '), PACED_GATEWAY);
    await page.locator('#confirm').waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
    await page.click('#confirm-stop');
    const id = await page.locator('#history > li').first().getAttribute('data-command-id');
    const item = page.locator(`#history > li[data-command-id="${id}"]`);
    const note = item.locator('.progress-note[data-progress="RateLimited"]');
    await note.waitFor({ timeout: UI_TIMEOUT_MS });
    const title = (await note.locator('.progress-title').textContent()).trim();
    // With the expected wait when the agent gives one (waitMs), else without a time.
    assert(/^Queued for the cloud's rate limit of StopInstances(: sent in about \d+ s)?$/.test(title), `progress "${title}"`);
    assert(/cloud\.quota 1\/5s/.test(await note.locator('.progress-message').textContent()), 'the gateway\'s words are not shown');
    assert(await item.locator('.steps li', { hasText: /^Queued$/ }).isVisible(), 'the steps do not say Queued');
    assert(!(await item.locator('.request-id').count()), 'progress was taken for the result');
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(opts.screenshots, 'dashboard-queued.png'), fullPage: true,
      clip: await item.boundingBox() });
    await item.locator('xpath=self::*[@data-phase="ok" or @data-phase="failed"]').waitFor({ timeout: UI_TIMEOUT_MS });
    assert((await item.getAttribute('data-phase')) === 'ok', `second list: phase ${await item.getAttribute('data-phase')}`);
    assert(!(await item.locator('.progress-note').count()), 'the progress note stays after the result');
    for (const instance of PACED[1]) await waitForLifecycle(item.locator(`.instances > li[data-instance-id="${instance}"]`), 'Stopped');
  });

  await check('(l) a gateway that reports no lifecycle: "following" gives way to a quiet note; forged and malformed lifecycle messages change nothing, a late real one shows', async () => {
    procs.quietAgent = await startAgent(opts.agent, tmpDir, {
      name: 'quiet', gatewayId: QUIET_GATEWAY, mqttUri: procs.mosquitto.uri, endpoint: procs.emulator.endpoint,
      caFile: opts.caFile, accessKeyId: AK_ID, accessKeySecret: AK_SECRET, follow: { enabled: false },
    });
    await waitForGatewayState(page, 'online', QUIET_GATEWAY);
    const snoop = await replySnooper(procs.mosquitto.uri);
    try {
      const item = await stopThroughForm(page, QUIET, QUIET_GATEWAY);
      const id = await item.getAttribute('data-command-id');
      await waitForLifecycle(item, 'following');
      await page.clock.fastForward(LIFECYCLE_QUIET_MS + 1000);  // past the page's quiet rule
      const quiet = await waitForLifecycle(item, 'quiet');
      assert(/No lifecycle report/.test(await quiet.textContent()), 'no quiet note');
      assert(!(await item.locator('.spinner').count()), 'still spinning');

      const reply = await waitUntil('the result on the reply route', () => snoop.find((m) => m.type === 'result' && m.id === id));
      const real = { type: 'lifecycle', id, InstanceId: QUIET, RegionId: REGION, RequestId: reply.msg.RequestId };
      const forged = [
        'not json', '[]', '{"type":"lifecycle"', JSON.stringify({ ...real, final: 'yes', Status: 'Stopped', elapsedMs: 1 }),
        JSON.stringify({ ...real, id: 'dash-someone-else', Status: 'Stopped', final: true, outcome: 'Stopped', elapsedMs: 1 }),
        JSON.stringify({ ...real, RequestId: 'forged', Status: 'Stopped', final: true, outcome: 'Stopped', elapsedMs: 1 }),
        JSON.stringify({ ...real, InstanceId: RUNNING, Status: 'Stopped', final: true, outcome: 'Stopped', elapsedMs: 1 }),
        JSON.stringify({ ...real, Status: '<img src=x onerror=alert(1)>', final: false, elapsedMs: 1 }),
        JSON.stringify({ ...real, Status: 'Stopped', final: true, outcome: 'Stopped', elapsedMs: -5 }),
      ];
      for (const payload of forged) await snoop.publish(reply, payload);
      // In order on the same route: once this one shows, the page has read all of the above.
      await snoop.publish(reply, { ...real, Status: 'Stopping', final: false, elapsedMs: 700 });
      // (or a final state, which no later message changes: then a forged one was believed)
      await item.locator('.lifecycle[data-lifecycle="progress"] .lifecycle-title', { hasText: /^Stopping…$/ })
        .or(item.locator('.lifecycle[data-final]')).waitFor({ timeout: UI_TIMEOUT_MS });
      const seen = await lifecycleSeen(page, item);
      assert(!seen.some((s) => s.state === 'Stopped'), `a forged message was believed: ${JSON.stringify(seen)}`);
      assert(seen.some((s) => s.text.startsWith('<img src=x onerror=alert(1)>…')), 'a well-formed Status is not shown verbatim');
      assert(!(await page.locator('#history img').count()), 'markup from a message was parsed');
      await snoop.publish(reply, { ...real, Status: 'Stopped', final: true, outcome: 'Stopped', elapsedMs: 2100 });
      const done = await waitForLifecycle(item, 'Stopped');
      const text = (await done.locator('.lifecycle-state').textContent()).trim();
      assert(text === 'Stopped in 2.1 s', `late final shows "${text}"`);
    } finally {
      await snoop.client.endAsync().catch(() => {});
    }
  });

  await check('(m) SIGKILL of the agent: the broker publishes its will and the gateway turns offline', async () => {
    await procs.agent.child.kill('SIGKILL');
    await waitForGatewayState(page, 'offline');
  });

  await check('(n) a stop to the offline gateway: a warning first, then "no result yet" and Send again', async () => {
    await fillStop(page, RUNNING);
    await page.locator('#confirm-warning', { hasText: 'offline' }).waitFor({ timeout: UI_TIMEOUT_MS });
    await page.click('#confirm-stop');
    const item = page.locator('#history > li').first();
    await item.locator('xpath=self::*[@data-phase="waiting"]').waitFor({ timeout: UI_TIMEOUT_MS });
    await page.clock.fastForward(31000);  // past the page's 30 s result timeout
    await item.locator('xpath=self::*[@data-phase="no-answer"]').waitFor({ timeout: UI_TIMEOUT_MS });
    await item.locator('button', { hasText: 'Send again' }).click();
    await item.locator('xpath=self::*[@data-phase="waiting"]').waitFor({ timeout: UI_TIMEOUT_MS });
  });
}

// ---------------------------------------------------------------------------------------------

async function loadPlaywright() {
  const entry = path.join(here, 'node_modules', 'playwright-core', 'index.mjs');
  if (!existsSync(entry)) fatal(`${entry} is missing: run "npm ci --prefix ${here}" (ctest's browser.npm_setup does)`);
  return (await import(pathToFileURL(entry).href)).chromium;
}

async function main() {
  for (const key of ['agent', 'emulator', 'makeCerts', 'mosquitto']) {
    if (!opts[key] || !existsSync(opts[key])) fatal(`--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} not found: ${opts[key]}`);
  }
  if (!existsSync(opts.chromium)) fatal(`chromium not found at ${opts.chromium}: install it (scripts/install-deps)`);
  const dist = path.join(opts.dashboard, 'dist');
  if (!existsSync(path.join(dist, 'index.html'))) fatal(`${dist} is not built: run "npm ci && npm run build" in ${opts.dashboard}`);
  const chromium = await loadPlaywright();
  const { startServer } = await import(pathToFileURL(path.join(opts.dashboard, 'serve.mjs')).href);

  tmpDir = mkdtempSync(path.join(os.tmpdir(), 'swas-browser-'));
  const certs = makeCerts(opts.makeCerts, path.join(tmpDir, 'certs'));
  opts.caFile = certs.ca;
  procs.mosquitto = await startMosquitto(opts.mosquitto, tmpDir);
  procs.emulator = await startEmulator(opts.emulator, tmpDir, certs, {
    accessKeyId: AK_ID, accessKeySecret: AK_SECRET,
    instances: [{ InstanceId: RUNNING, RegionId: REGION, state: 'Running' },
      { InstanceId: STOPPED, RegionId: REGION, state: 'Stopped' },
      { InstanceId: SLOW, RegionId: REGION, state: 'Running', stopping_ms: 1500 },
      { InstanceId: BOUNCE, RegionId: REGION, state: 'Running', stopping_ms: 500, stop_outcome: 'BackToRunning' },
      { InstanceId: STUCK, RegionId: REGION, state: 'Running', stop_outcome: 'StuckStopping' },
      { InstanceId: QUIET, RegionId: REGION, state: 'Running' },
      ...LIST.map((InstanceId, i) => ({ InstanceId, RegionId: REGION, state: 'Running', stopping_ms: 400 + 400 * i })),
      { InstanceId: FORCED, RegionId: REGION, state: 'Running' },
      ...PACED.flat().map((InstanceId) => ({ InstanceId, RegionId: REGION, state: 'Running' }))],
  });
  procs.agent = await startAgent(opts.agent, tmpDir, {
    gatewayId: GATEWAY, mqttUri: procs.mosquitto.uri, endpoint: procs.emulator.endpoint, caFile: certs.ca,
    accessKeyId: AK_ID, accessKeySecret: AK_SECRET, follow: FOLLOW,
  });
  const web = await startServer({ root: dist, host: '127.0.0.1', port: 0 });
  console.log(`mosquitto tcp ${procs.mosquitto.tcpPort} ws ${procs.mosquitto.wsPort}, emulator ${procs.emulator.port}, page ${web.url}`);

  context = await chromium.launchPersistentContext(path.join(tmpDir, 'chromium-profile'), {
    executablePath: opts.chromium, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 900 },
    timeout: 30000,
  });
  const page = context.pages()[0] ?? await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
  await page.clock.install();  // runs in real time; (l) and (n) jump it forward
  await page.goto(`${web.url}?ws=${procs.mosquitto.wsPort}`, { timeout: UI_TIMEOUT_MS });
  try {
    await runChecks(page, procs.emulator.port);
    await check('(o) no script errors in the page', async () => {
      assert(pageErrors.length === 0, pageErrors.join(' | '));
    });
  } finally {
    await context.close().catch(() => {});
    web.server.close();
  }
  if (results.failed > 0) dumpLogs();
  console.log(`screenshots in ${opts.screenshots}`);
  console.log(`dashboard: ${results.passed} passed, ${results.failed} failed`);
  clearTimeout(watchdog);
  cleanup();
  process.exit(results.failed === 0 ? 0 : 1);
}

main().catch((e) => fatal((e && e.stack) || String(e)));
