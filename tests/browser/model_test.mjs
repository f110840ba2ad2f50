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
  const cmd = JSON.parse(model.buildStopCommand({ id: 'c-1', instanceId: 'i-1', regionId: 'cn-hangzhou' }));
  assert.deepEqual(cmd, { type: 'command', id: 'c-1', action: 'StopInstance', InstanceId: 'i-1', RegionId: 'cn-hangzhou' });
  const withToken = JSON.parse(model.buildStopCommand({ id: 'c-1', instanceId: 'i', regionId: 'r', clientToken: 't' }));
  assert.equal(withToken.ClientToken, 't');
});

test('command ids are printable, sortable and distinct', () => {
  const id = model.newCommandId(new Date('2026-11-26T03:04:05.678Z'), 'a1b2c3');
  assert.equal(id, 'dash-20261126T030405Z-a1b2c3');
  assert.notEqual(model.newCommandId(), model.newCommandId());
  assert.match(model.randomHex(16), /^[0-9a-f]{32}$/);
});

test('the form is checked before the confirmation', () => {
  const good = { gateway: 'gw-001', instanceId: 'i-1', regionId: 'cn-hangzhou' };
  assert.equal(model.validateStop(good), null);
  assert.match(model.validateStop({ ...good, gateway: 'gw/+' }), /Gateway/);
  assert.match(model.validateStop({ ...good, gateway: '' }), /Gateway/);
  assert.match(model.validateStop({ ...good, instanceId: '' }), /InstanceId is required/);
  assert.match(model.validateStop({ ...good, instanceId: 'a\nb' }), /InstanceId/);
  assert.match(model.validateStop({ ...good, instanceId: 'x'.repeat(257) }), /InstanceId/);
  assert.match(model.validateStop({ ...good, regionId: 'CN_Hangzhou' }), /RegionId/);
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
  const cmd = { id: 'c-1', instanceId: 'i-1', regionId: 'cn-hangzhou', result: null };
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
