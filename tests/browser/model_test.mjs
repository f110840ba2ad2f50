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
