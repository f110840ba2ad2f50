// The dashboard's pure logic (dashboard/src/model.js), under node --test.
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { test } from 'node:test';

import * as model from '../../dashboard/src/model.js';

// The page runs in browsers, which all have globalThis.crypto; so do Node.js 19 and later. Debian
// bookworm's Node.js 18 has it only behind a flag, so the test gives it the browser's global.
if (!globalThis.crypto) globalThis.crypto = webcrypto;

test('topics: commands, a reply topic per gateway and session, one filter for all replies', () => {
  assert.equal(model.commandTopic('gw-001'), 'swas/gw-001/commands');
  assert.equal(model.replyTopic('gw-001', 'abc'), 'swas/gw-001/replies/abc');
  assert.equal(model.replyFilter('abc'), 'swas/+/replies/abc');
  assert.equal(model.STATUS_FILTER, 'swas/+/status');
});

test('the stop command has the contract fields, ClientToken only when given', () => {
  const text = model.buildStopCommand({ id: 'c-1', instanceIds: ['i-1'], regionId: 'cn-hangzhou' });
  // One instance without force: InstanceId, exactly as before issue 13.
  assert.equal(text, '{"type":"command","id":"c-1","action":"StopInstance","InstanceId":"i-1","RegionId":"cn-hangzhou"}');
  const withToken = JSON.parse(model.buildStopCommand({ id: 'c-1', instanceIds: ['i'], regionId: 'r', clientToken: 't' }));
  assert.equal(withToken.ClientToken, 't');
});

test('several instances are one command with InstanceIds in the order given; force stop is ForceStop with InstanceIds', () => {
  assert.equal(model.buildStopCommand({ id: 'c-1', instanceIds: ['i-3', 'i-1', 'i-2'], regionId: 'cn-hangzhou' }),
    '{"type":"command","id":"c-1","action":"StopInstance","InstanceIds":["i-3","i-1","i-2"],"RegionId":"cn-hangzhou"}');
  assert.equal(model.buildStopCommand({ id: 'c-1', instanceIds: ['i-1'], regionId: 'cn-hangzhou', force: true }),
    '{"type":"command","id":"c-1","action":"StopInstance","InstanceIds":["i-1"],"RegionId":"cn-hangzhou","ForceStop":true}');
  assert.equal(model.usesInstanceIds({ instanceIds: ['a'], force: false }), false);
  assert.equal(model.usesInstanceIds({ instanceIds: ['a', 'b'], force: false }), true);
  assert.equal(model.usesInstanceIds({ instanceIds: ['a'], force: true }), true);
});

const ids = (n, prefix = 'ace0706b2ac4454d984295a9421') => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(5, '0')}`);

test('a pasted list: whitespace, commas and new lines separate ids, in the order given', () => {
  assert.deepEqual(model.parseInstanceList('i-1'), { ids: ['i-1'], error: null });
  assert.deepEqual(model.parseInstanceList('  i-1\n'), { ids: ['i-1'], error: null });
  assert.deepEqual(model.parseInstanceList('i-3, i-1,i-2'), { ids: ['i-3', 'i-1', 'i-2'], error: null });
  assert.deepEqual(model.parseInstanceList('i-1\r\ni-2\n\n\ti-3 ,, \n'), { ids: ['i-1', 'i-2', 'i-3'], error: null });
  // Spreadsheet and console pastes: tabs, no-break spaces, a trailing comma.
  assert.deepEqual(model.parseInstanceList('i-1\u00a0i-2\ti-3,'), { ids: ['i-1', 'i-2', 'i-3'], error: null });
  const hundred = ids(100);
  assert.deepEqual(model.parseInstanceList(hundred.join('\n')).ids, hundred);
});

test('a pasted list: empty, too many, repeated ids are refused', () => {
  for (const empty of ['', '   ', '\n,\n', ',']) assert.match(model.parseInstanceList(empty).error, /InstanceId is required/);
  assert.match(model.parseInstanceList(ids(101).join(' ')).error, /^101 instances: one command stops at most 100/);
  const twice = model.parseInstanceList('i-1 i-2 i-3 i-2');
  assert.deepEqual(twice.ids, []);
  assert.equal(twice.error, 'i-2 is listed twice (items 2 and 4)');
  assert.match(model.parseInstanceList(null).error, /required/);
});

test('a pasted list: hostile and malformed input is refused, naming the item, never echoed long', () => {
  const bad = [
    ['i-1 <img src=x onerror=alert(1)>', /"<img" \(item 2\) is not an InstanceId/],
    ['"i-1","i-2"', /"\"i-1\"" \(item 1\)/],
    ['["i-1"]', /is not an InstanceId/],
    ['i-1;i-2', /"i-1;i-2" is not an InstanceId/],
    ['i-1\u0000', /is not an InstanceId/],
    ['i-1 \u001b[2J', /\(item 2\) is not an InstanceId/],
    ['i-\u202eevil', /is not an InstanceId/],           // bidi override
    ['ｉ-1', /is not an InstanceId/],                     // full-width letter
    ['-i-1', /is not an InstanceId/],
    ['i-1 ace0706b2ac4454d984295a94213****', /\(item 2\) is not an InstanceId/],  // a masked id from the docs
    [`${'x'.repeat(257)}`, /is not an InstanceId/],
  ];
  for (const [text, want] of bad) {
    const r = model.parseInstanceList(text);
    assert.deepEqual(r.ids, [], text);
    assert.match(r.error ?? '', want, JSON.stringify(text));
    assert.ok(r.error.length < 200, `error too long for ${JSON.stringify(text)}`);
  }
  assert.match(model.parseInstanceList(`i-1 ${'y'.repeat(300)}`).error, /^"y{40}…" \(item 2\)/);
  // A huge paste is refused before it is split.
  const huge = 'i-1 '.repeat(20000);
  assert.match(model.parseInstanceList(huge).error, /characters long: paste at most 100 InstanceIds/);
  // A 256-character id is still one.
  assert.deepEqual(model.parseInstanceList('a'.repeat(256)).ids, ['a'.repeat(256)]);
});

test('command ids are printable, sortable and distinct', () => {
  const id = model.newCommandId(new Date('2026-11-26T03:04:05.678Z'), 'a1b2c3');
  assert.equal(id, 'dash-20261126T030405Z-a1b2c3');
  assert.notEqual(model.newCommandId(), model.newCommandId());
  assert.match(model.randomHex(16), /^[0-9a-f]{32}$/);
});

test('the form is checked before the confirmation', () => {
  const good = { gateway: 'gw-001', instances: 'i-1', regionId: 'cn-hangzhou' };
  assert.equal(model.validateStop(good), null);
  assert.deepEqual(model.readStopForm(good).stop, { gateway: 'gw-001', instanceIds: ['i-1'], regionId: 'cn-hangzhou', force: false });
  assert.match(model.validateStop({ ...good, gateway: 'gw/+' }), /Gateway/);
  assert.match(model.validateStop({ ...good, gateway: '' }), /Gateway/);
  assert.match(model.validateStop({ ...good, instances: '' }), /InstanceId is required/);
  assert.match(model.validateStop({ ...good, instances: 'a\u0001b' }), /InstanceId/);
  assert.match(model.validateStop({ ...good, instances: 'x'.repeat(257) }), /InstanceId/);
  assert.match(model.validateStop({ ...good, regionId: 'CN_Hangzhou' }), /RegionId/);
  const many = model.readStopForm({ ...good, instances: 'i-1\ni-2\ni-3', force: true });
  assert.deepEqual(many.stop, { gateway: 'gw-001', instanceIds: ['i-1', 'i-2', 'i-3'], regionId: 'cn-hangzhou', force: true });
});

test('a list whose command would be over the gateway\'s 8192 bytes is refused; 100 typical ids fit', () => {
  const good = { gateway: 'gw-001', regionId: 'cn-hangzhou' };
  assert.equal(model.validateStop({ ...good, instances: ids(100).join('\n'), force: true }), null);  // ~3.7 KB
  const long = ids(100, 'x'.repeat(80));  // 85 characters each
  assert.match(model.validateStop({ ...good, instances: long.join(' ') }),
    /^A command with these 100 InstanceIds would be \d+ bytes; a gateway takes at most 8192/);
});

test('status messages: online with counters, offline will, cleared and foreign messages', () => {
  const online = model.parseStatus('swas/gw-001/status', JSON.stringify({
    type: 'status', state: 'online', gateway_id: 'gw-001', version: '0.1.0', started_at: '2026-11-26T03:00:00Z',
    counters: { received: 3, succeeded: 2, failed: 1, rejected: 0, in_flight: 0 }, last_error: null,
  }));
  assert.deepEqual(online, {
    gateway: 'gw-001', state: 'online', version: '0.1.0', startedAt: '2026-11-26T03:00:00Z',
    counters: { received: 3, succeeded: 2, failed: 1, rejected: 0, in_flight: 0 }, lastError: '',
  });
  const offline = model.parseStatus('swas/gw-002/status', '{"type":"status","state":"offline","version":"0.1.0"}');
  assert.equal(offline.gateway, 'gw-002');
  assert.equal(offline.state, 'offline');
  assert.deepEqual(offline.counters, {});
  assert.equal(model.parseStatus('swas/gw-002/status', ''), null);
  assert.equal(model.parseStatus('swas/gw-002/status', '{"type":"result"}'), null);
  assert.equal(model.parseStatus('swas/gw-002/status', '[]'), null);
  assert.equal(model.gatewayOfTopic('swas/gw-002/status'), 'gw-002');
});

test('results: success, cloud error with hint, agent error, not a result', () => {
  const ok = model.parseResult('{"type":"result","id":"c-1","ok":true,"RequestId":"R-1","ClientToken":"t"}');
  assert.equal(ok.ok, true);
  assert.equal(ok.requestId, 'R-1');
  assert.equal(ok.hint, null);
  const cloud = model.parseResult(JSON.stringify({ type: 'result', id: 'c-2', ok: false, error: {
    source: 'cloud', HttpStatus: 403, Code: 'IncorrectInstanceStatus', Message: 'The state...', RequestId: 'R-2' } }));
  assert.equal(cloud.ok, false);
  assert.equal(cloud.code, 'IncorrectInstanceStatus');
  assert.equal(cloud.httpStatus, 403);
  assert.equal(cloud.requestId, 'R-2');
  assert.match(cloud.hint, /not Running/);
  const agent = model.parseResult('{"type":"result","id":null,"ok":false,"error":{"source":"agent","Code":"InvalidCommand","Message":"x"}}');
  assert.equal(agent.id, null);
  assert.equal(agent.source, 'agent');
  assert.equal(model.parseResult('{"type":"command","id":"c"}'), null);
  assert.equal(model.parseResult('nope'), null);
});

test('hints for every code the issue names, and their subcodes', () => {
  for (const code of ['IncorrectInstanceStatus', 'InvalidInstanceId.NotFound', 'CloudUnreachable', 'Busy',
    'InvalidParameter', 'MissingParameter', 'Forbidden', 'Throttled', 'CredentialsMissing', 'SignatureDoesNotMatch',
    'InvalidAccessKeyId.NotFound', 'InvalidTimeStamp.Expired', 'Forbidden.RAM', 'Throttling.User', 'CommandExpired']) {
    assert.ok(model.hintFor(code), code);
  }
  assert.equal(model.hintFor('Busybody'), null);
  assert.equal(model.hintFor(''), null);
  assert.equal(model.hintFor(undefined), null);
});

test('broker URL: ?broker, ?ws=PORT, remembered, default; wss on https pages', () => {
  const loc = (search, protocol = 'http:', hostname = 'gw.example') => ({ search, protocol, hostname });
  assert.equal(model.defaultBrokerUrl(loc('?broker=wss://b.example/mqtt')), 'wss://b.example/mqtt');
  assert.equal(model.defaultBrokerUrl(loc('?ws=9001')), 'ws://gw.example:9001/');
  assert.equal(model.defaultBrokerUrl(loc('?ws=8443', 'https:')), 'wss://gw.example:8443/');
  assert.equal(model.defaultBrokerUrl(loc('?ws=x'), 'ws://r:1/'), 'ws://r:1/');
  assert.equal(model.defaultBrokerUrl(loc('')), 'ws://gw.example:9001/');
  assert.equal(model.defaultBrokerUrl(loc('', 'http:', '::1')), 'ws://[::1]:9001/');
  assert.ok(model.isBrokerUrl('ws://h:1/'));
  assert.ok(!model.isBrokerUrl('http://h/'));
  assert.ok(!model.isBrokerUrl(''));
});

test('after an error: resend Busy (same id), stop again after passing causes, nothing after final answers', () => {
  const result = (source, Code) => model.parseResult(JSON.stringify({ type: 'result', id: 'c', ok: false, error: { source, Code } }));
  assert.equal(model.nextStep(result('agent', 'Busy')), 'resend');
  assert.equal(model.nextStep(result('agent', 'CloudUnreachable')), 'stop-again');
  assert.equal(model.nextStep(result('agent', 'CommandExpired')), 'stop-again');
  assert.equal(model.nextStep(result('cloud', 'Throttling.User')), 'stop-again');
  assert.equal(model.nextStep(result('agent', 'MissingParameter')), null);
  assert.equal(model.nextStep(result('cloud', 'IncorrectInstanceStatus')), null);
  assert.equal(model.nextStep(model.parseResult('{"type":"result","id":"c","ok":true,"RequestId":"R"}')), null);
  assert.ok(model.COMMAND_EXPIRY_S >= model.RESULT_TIMEOUT_MS / 1000);
});

// ---------------------------------------------------------------------------------------------
// Lifecycle messages (docs/contract.md, "Following a stop to Stopped")

const LC_PROGRESS = {
  type: 'lifecycle', id: 'c-1', InstanceId: 'i-1', RegionId: 'cn-hangzhou', RequestId: 'R-1',
  Status: 'Stopping', final: false, elapsedMs: 412,
};
const LC_STOPPED = { ...LC_PROGRESS, Status: 'Stopped', final: true, outcome: 'Stopped', elapsedMs: 31870 };
const lc = (fields) => model.parseLifecycle(JSON.stringify({ ...LC_PROGRESS, ...fields }));

test('lifecycle: the contract\'s progress and final messages are read', () => {
  assert.deepEqual(model.parseLifecycle(JSON.stringify(LC_PROGRESS)), {
    id: 'c-1', instanceId: 'i-1', regionId: 'cn-hangzhou', requestId: 'R-1', status: 'Stopping', final: false,
    outcome: null, elapsedMs: 412, message: '', error: null,
  });
  const stopped = model.parseLifecycle(JSON.stringify(LC_STOPPED));
  assert.equal(stopped.final, true);
  assert.equal(stopped.outcome, 'Stopped');
  assert.equal(stopped.elapsedMs, 31870);
  const failed = model.parseLifecycle(JSON.stringify({
    type: 'lifecycle', id: 'c-3', InstanceId: 'i-3', RegionId: 'cn-hangzhou', RequestId: '77AB', Status: null,
    final: true, outcome: 'PollFailed', elapsedMs: 1290, Message: 'ListInstanceStatus failed: Forbidden.RAM',
    error: { source: 'cloud', HttpStatus: 403, Code: 'Forbidden.RAM', Message: 'User not authorized.', RequestId: '5E1B' },
  }));
  assert.equal(failed.status, null);
  assert.equal(failed.message, 'ListInstanceStatus failed: Forbidden.RAM');
  assert.deepEqual(failed.error, { source: 'cloud', httpStatus: 403, code: 'Forbidden.RAM', message: 'User not authorized.', requestId: '5E1B' });
  // Unknown members are ignored; an outcome on a progress message means nothing.
  assert.equal(lc({ extra: { deep: [1] }, outcome: 'Stopped' }).outcome, null);
  // An outcome or a Status from a newer agent or cloud is kept as it is.
  assert.equal(lc({ final: true, outcome: 'Hibernated', Status: 'Hibernating' }).outcome, 'Hibernated');
});

test('lifecycle: hostile or malformed messages are ignored as a whole, without throwing', () => {
  const bad = [
    '', 'nope', '{', 'null', '[]', '42', '"lifecycle"', '{"type":"lifecycle"}',
    JSON.stringify({ ...LC_PROGRESS, type: 'result' }),
    JSON.stringify({ ...LC_PROGRESS, type: 'Lifecycle' }),
  ];
  for (const text of bad) assert.equal(model.parseLifecycle(text), null, text);
  const wrong = [
    { id: 7 }, { id: '' }, { id: null }, { id: 'x'.repeat(129) }, { id: ['c-1'] },
    { InstanceId: 5 }, { InstanceId: undefined }, { RegionId: null }, { RequestId: {} }, { RequestId: 'x'.repeat(2000) },
    { final: 'false' }, { final: 0 }, { final: undefined },
    { elapsedMs: '412' }, { elapsedMs: -1 }, { elapsedMs: null }, { elapsedMs: undefined }, { elapsedMs: 1e300 },
    { Status: 5 }, { Status: '' }, { Status: 'Stopping\n' }, { Status: 'S'.repeat(65) }, { Status: 'Stöpped' },
    { Status: undefined }, { Status: { toString: 'Stopped' } },
    { final: true, outcome: undefined }, { final: true, outcome: 3 }, { final: true, outcome: '' },
    { final: true, outcome: '<img src=x onerror=alert(1)>'.repeat(3) },
    { Message: 42 }, { Message: null }, { error: 'Forbidden' }, { error: null }, { error: [] },
  ];
  for (const fields of wrong) assert.equal(lc(fields), null, JSON.stringify(fields));
  // NaN and Infinity are not JSON; a __proto__ key is only a key.
  assert.equal(model.parseLifecycle(JSON.stringify(LC_PROGRESS).replace('412', 'NaN')), null);
  const proto = model.parseLifecycle(JSON.stringify(LC_PROGRESS).replace('{', '{"__proto__":{"final":true},'));
  assert.equal(proto.final, false);
  assert.equal(({}).final, undefined);
  // Long texts are clipped, error fields of the wrong type read as empty.
  const long = lc({ final: true, outcome: 'TimedOut', Message: 'm'.repeat(100000), error: { Code: 5, HttpStatus: '403' } });
  assert.equal(long.message.length, 1024);
  assert.equal(long.error.code, '');
  assert.equal(long.error.httpStatus, null);
});

test('lifecycle: only messages about the command the page sent, after its successful result', () => {
  const cmd = { id: 'c-1', instanceIds: ['i-1'], regionId: 'cn-hangzhou', result: null };
  const progress = lc({});
  assert.ok(model.lifecycleMatches(cmd, progress));
  assert.ok(!model.lifecycleMatches(cmd, lc({ id: 'c-2' })));
  assert.ok(!model.lifecycleMatches(cmd, lc({ InstanceId: 'i-2' })));
  assert.ok(!model.lifecycleMatches(cmd, lc({ RegionId: 'cn-beijing' })));
  const ok = model.parseResult('{"type":"result","id":"c-1","ok":true,"RequestId":"R-1"}');
  assert.ok(model.lifecycleMatches({ ...cmd, result: ok }, progress));
  assert.ok(!model.lifecycleMatches({ ...cmd, result: ok }, lc({ RequestId: 'R-other' })));
  const failed = model.parseResult('{"type":"result","id":"c-1","ok":false,"error":{"source":"cloud","Code":"X","RequestId":"R-1"}}');
  assert.ok(!model.lifecycleMatches({ ...cmd, result: failed }, progress));
  assert.ok(!model.lifecycleMatches(null, progress));
  assert.ok(!model.lifecycleMatches(cmd, null));
});

test('lifecycle: a final message ends the follow; stale progress is dropped', () => {
  const stopping = lc({ elapsedMs: 400 });
  const pending = lc({ Status: 'Pending', elapsedMs: 800 });
  const stopped = model.parseLifecycle(JSON.stringify(LC_STOPPED));
  assert.equal(model.mergeLifecycle(null, stopping), stopping);
  assert.equal(model.mergeLifecycle(stopping, null), stopping);
  assert.equal(model.mergeLifecycle(undefined, null), null);
  assert.equal(model.mergeLifecycle(stopping, pending), pending);
  assert.equal(model.mergeLifecycle(pending, stopping), pending);      // republished out of order
  assert.equal(model.mergeLifecycle(stopping, stopped), stopped);
  assert.equal(model.mergeLifecycle(stopped, pending), stopped);       // nothing after the final
  const timedOut = lc({ final: true, outcome: 'TimedOut' });
  assert.equal(model.mergeLifecycle(stopped, timedOut), stopped);      // the first final stays
});

test('durations: tenths under a minute, then minutes, hours, days', () => {
  assert.equal(model.formatDuration(0), '0.0 s');
  assert.equal(model.formatDuration(412), '0.4 s');
  assert.equal(model.formatDuration(31870), '31.9 s');
  assert.equal(model.formatDuration(59940), '59.9 s');
  assert.equal(model.formatDuration(59960), '1 min');
  assert.equal(model.formatDuration(125000), '2 min 5 s');
  assert.equal(model.formatDuration(600412), '10 min');
  assert.equal(model.formatDuration(3840000), '1 h 4 min');
  assert.equal(model.formatDuration(7200000), '2 h');
  assert.equal(model.formatDuration(86400000 * 3), '3 days');
  assert.equal(model.formatDuration(4999, false), '4 s');
  assert.equal(model.formatDuration(-5), '0.0 s');
  assert.equal(model.formatDuration(NaN), '0.0 s');
});

test('lifecycle in words: following, quiet, progress and every outcome', () => {
  const following = model.describeLifecycle(null, false);
  assert.equal(following.state, 'following');
  assert.equal(following.tone, 'progress');
  const quiet = model.describeLifecycle(null, true);
  assert.equal(quiet.state, 'quiet');
  assert.equal(quiet.tone, 'muted');
  assert.match(quiet.title, /No lifecycle report/);
  assert.match(quiet.advice, /older|follow\.enabled/);
  assert.ok(model.LIFECYCLE_QUIET_MS >= 30000, 'the quiet rule must leave the default 10 s polls time');

  const progress = model.describeLifecycle(lc({}), true);  // a message beats the quiet rule
  assert.equal(progress.state, 'progress');
  assert.equal(progress.title, 'Stopping…');
  assert.equal(progress.live, true);

  const stopped = model.describeLifecycle(model.parseLifecycle(JSON.stringify(LC_STOPPED)));
  assert.equal(stopped.tone, 'ok');
  assert.equal(stopped.title, 'Stopped in 31.9 s');
  assert.equal(stopped.live, false);

  const final = (outcome, fields = {}) => model.describeLifecycle(lc({ final: true, outcome, ...fields }));
  const timedOut = final('TimedOut', { elapsedMs: 600412, Message: 'the instance was still Stopping 600 s after the stop' });
  assert.equal(timedOut.title, 'Still Stopping after 10 min');
  assert.equal(timedOut.message, 'the instance was still Stopping 600 s after the stop');
  assert.match(timedOut.advice, /console/);

  const running = final('UnexpectedStatus', { Status: 'Running', Message: 'the instance is Running again' });
  assert.equal(running.tone, 'bad');
  assert.match(running.title, /Not stopped: the instance is Running/);
  assert.equal(running.stopAgain, true);
  const disabled = final('UnexpectedStatus', { Status: 'Disabled' });
  assert.match(disabled.advice, /disabled/);
  assert.equal(disabled.stopAgain, false);

  assert.match(final('NotFound', { Status: null }).advice, /released.*cn-hangzhou|cn-hangzhou.*released/);

  const ram = final('PollFailed', { Status: null, Message: 'ListInstanceStatus failed: Forbidden.RAM',
    error: { source: 'cloud', HttpStatus: 403, Code: 'Forbidden.RAM', Message: 'User not authorized.' } });
  assert.match(ram.advice, /ListInstanceStatus/);
  assert.equal(ram.message, 'ListInstanceStatus failed: Forbidden.RAM');
  assert.equal(ram.error, 'Forbidden.RAM (cloud, HTTP 403): User not authorized.');
  assert.equal(final('PollFailed', { error: { Code: 'X' } }).error, 'X');
  assert.equal(final('PollFailed').error, '');
  assert.match(final('PollFailed', { error: { source: 'agent', Code: 'CloudUnreachable' } }).advice, /connection to the cloud/);
  assert.match(final('PollFailed').advice, /unknown/);

  assert.match(final('NotFollowed', { Message: 'already following 1000 instances' }).title, /Not followed/);
  const unknown = final('Hibernated');
  assert.equal(unknown.title, 'Following ended: Hibernated');
  for (const outcome of model.LIFECYCLE_OUTCOMES) {
    const d = final(outcome);
    assert.equal(d.state, outcome);
    assert.ok(d.title && !d.live, outcome);
    if (outcome !== 'Stopped') assert.ok(d.advice, `no advice for ${outcome}`);
  }
});

// ---------------------------------------------------------------------------------------------
// Many instances in one command, and progress messages (docs/contract.md, issue 13)

test('a result listing InstanceIds and ForceStop is read; a malformed list is not believed', () => {
  const r = model.parseResult(JSON.stringify({ type: 'result', id: 'c-7', action: 'StopInstance',
    InstanceIds: ['i-1', 'i-2', 'i-3'], RegionId: 'cn-hangzhou', ClientToken: 't', ForceStop: false, ok: true, RequestId: 'R-7' }));
  assert.deepEqual(r.instanceIds, ['i-1', 'i-2', 'i-3']);
  assert.equal(r.forceStop, false);
  assert.equal(r.requestId, 'R-7');
  const single = model.parseResult('{"type":"result","id":"c","ok":true,"RequestId":"R","InstanceId":"i-1"}');
  assert.equal(single.instanceIds, null);
  assert.equal(single.forceStop, null);
  for (const bad of [['i-1', 5], 'i-1', [{}], Array.from({ length: 101 }, (_, i) => `i-${i}`)]) {
    assert.equal(model.parseResult(JSON.stringify({ type: 'result', id: 'c', ok: true, InstanceIds: bad })).instanceIds, null);
  }
});

test('lifecycle messages of a command naming several instances match by InstanceId', () => {
  const cmd = { id: 'c-1', instanceIds: ['i-1', 'i-2', 'i-3'], regionId: 'cn-hangzhou', result: null };
  for (const id of cmd.instanceIds) assert.ok(model.lifecycleMatches(cmd, lc({ InstanceId: id })), id);
  assert.ok(!model.lifecycleMatches(cmd, lc({ InstanceId: 'i-4' })));
  assert.ok(!model.lifecycleMatches(cmd, lc({ InstanceId: 'i-1', id: 'c-2' })));
  const ok = model.parseResult('{"type":"result","id":"c-1","ok":true,"RequestId":"R-1"}');
  assert.ok(model.lifecycleMatches({ ...cmd, result: ok }, lc({ InstanceId: 'i-3' })));
  assert.ok(!model.lifecycleMatches({ ...cmd, result: ok }, lc({ InstanceId: 'i-3', RequestId: 'R-2' })));
});

test('several instances summed up: counts, and the worst tone', () => {
  const ids3 = ['i-1', 'i-2', 'i-3'];
  const final = (InstanceId, outcome, Status = outcome === 'Stopped' ? 'Stopped' : 'Running') =>
    lc({ InstanceId, final: true, outcome, Status, elapsedMs: 1000 });
  let s = model.summarizeLifecycles(ids3, {});
  assert.deepEqual(s, { tone: 'progress', title: '0 of 3 Stopped · 3 on the way', stopped: 0, total: 3, done: false });
  s = model.summarizeLifecycles(ids3, { 'i-1': final('i-1', 'Stopped'), 'i-2': lc({ InstanceId: 'i-2' }) });
  assert.equal(s.title, '1 of 3 Stopped · 2 on the way');
  assert.equal(s.tone, 'progress');
  s = model.summarizeLifecycles(ids3, { 'i-1': final('i-1', 'Stopped'), 'i-2': final('i-2', 'Stopped'), 'i-3': final('i-3', 'Stopped') });
  assert.deepEqual(s, { tone: 'ok', title: '3 of 3 Stopped', stopped: 3, total: 3, done: true });
  s = model.summarizeLifecycles(ids3, { 'i-1': final('i-1', 'Stopped'), 'i-2': final('i-2', 'UnexpectedStatus'), 'i-3': final('i-3', 'TimedOut', 'Stopping') });
  assert.deepEqual(s, { tone: 'bad', title: '1 of 3 Stopped · 2 not stopped', stopped: 1, total: 3, done: true });
  s = model.summarizeLifecycles(ids3, {}, true);  // the quiet rule: nothing reported in time
  assert.equal(s.tone, 'muted');
});

const PROGRESS = {
  type: 'progress', id: 'c-9', stage: 'RateLimited', action: 'StopInstance', waitMs: 24000,
  Message: "waiting for the cloud's rate limit of StopInstance (cloud.quota 10/60s); the stop is sent in about 24 s",
};

test('progress: the contract\'s RateLimited message is read and described; it is never a result nor a lifecycle message', () => {
  const text = JSON.stringify(PROGRESS);
  const p = model.parseProgress(text);
  assert.deepEqual(p, { id: 'c-9', stage: 'RateLimited', action: 'StopInstance', waitMs: 24000, message: PROGRESS.Message });
  assert.equal(model.parseResult(text), null);
  assert.equal(model.parseLifecycle(text), null);
  assert.equal(model.parseProgress('{"type":"result","id":"c-9","ok":true,"RequestId":"R"}'), null);
  const d = model.describeProgress(p, 29000);
  assert.equal(d.title, "Queued for the cloud's rate limit of StopInstance: sent in about 24 s");
  assert.equal(d.message, PROGRESS.Message);
  assert.equal(d.advice, '');  // sent before the command expires
});

test('progress: a wait beyond the command\'s expiry, or unknown (queued behind others, a throttling hold), says what will happen', () => {
  const later = model.describeProgress(model.parseProgress(JSON.stringify({ ...PROGRESS, waitMs: 45000 })), 29000);
  assert.match(later.advice, /after the command's 30 s expiry: the gateway will answer RateLimited/);
  const hold = model.describeProgress(model.parseProgress(JSON.stringify({ ...PROGRESS, waitMs: null, action: undefined })), 29000);
  assert.equal(hold.title, "Queued for the cloud's rate limit");  // no time: the gateway's words say why
  assert.match(hold.advice, /If its turn does not come within the command's 30 s expiry/);
  const other = model.describeProgress(model.parseProgress(JSON.stringify({ type: 'progress', id: 'c', stage: 'Queued', waitMs: 1500 })), 29000);
  assert.deepEqual(other, { title: 'Gateway: Queued (about 2 s)', message: '', advice: '' });
});

test('progress: malformed and hostile messages are not believed', () => {
  const bad = [
    'not json', '[]', '{"type":"progress"', JSON.stringify({ ...PROGRESS, type: 'Progress' }),
    JSON.stringify({ ...PROGRESS, id: 7 }), JSON.stringify({ ...PROGRESS, id: '' }), JSON.stringify({ ...PROGRESS, id: 'x'.repeat(129) }),
    JSON.stringify({ ...PROGRESS, stage: undefined }), JSON.stringify({ ...PROGRESS, stage: '' }),
    JSON.stringify({ ...PROGRESS, stage: 'Rate\u001bLimited' }), JSON.stringify({ ...PROGRESS, stage: 'S'.repeat(65) }),
    JSON.stringify({ ...PROGRESS, action: 5 }), JSON.stringify({ ...PROGRESS, waitMs: '24000' }),
    JSON.stringify({ ...PROGRESS, waitMs: -1 }), JSON.stringify({ ...PROGRESS, waitMs: 1e13 }),
    JSON.stringify({ ...PROGRESS, Message: ['x'] }),
  ];
  for (const text of bad) assert.equal(model.parseProgress(text), null, text);
  const long = model.parseProgress(JSON.stringify({ ...PROGRESS, Message: 'm'.repeat(5000) }));
  assert.equal(long.message.length, 1024);
  assert.equal(model.parseProgress(JSON.stringify({ ...PROGRESS, waitMs: undefined })).waitMs, null);
});

test('RateLimited (the agent gave up waiting for the rate limit) has a hint and offers Stop again', () => {
  assert.match(model.hintFor('RateLimited'), /rate limit/);
  const r = model.parseResult(JSON.stringify({ type: 'result', id: 'c', ok: false, error: { source: 'agent', Code: 'RateLimited' } }));
  assert.equal(model.nextStep(r), 'stop-again');
});
