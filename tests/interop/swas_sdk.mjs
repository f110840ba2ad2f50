// The official generated SWAS client (@alicloud/swas-open20200601, the API's own request and
// response models over @alicloud/openapi-core, signature V3 by default) against the project's
// SWAS emulator over HTTPS on loopback: StopInstance, StopInstances and ListInstanceStatus, and
// the emulator's quotas (Throttling.User), with every request built and signed and every answer
// and error parsed by the SDK.
//
//   node swas_sdk.mjs --emulator PATH --make-certs PATH
//   (or SWAS_EMULATOR and SWAS_MAKE_TEST_CERTS in the environment)
//
// Starts the emulator itself (port 0, temp dir), always stops it, and never runs longer than the
// global watchdog. Prints "N passed, M failed"; exits 0 only when nothing failed.
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';

import { EmulatorProcess, toolPaths, supervise } from './emulator_runner.mjs';
import { loadSdk } from './sdk_loader.mjs';

const SWAS_PACKAGE = '@alicloud/swas-open20200601';
const swas = loadSdk([SWAS_PACKAGE])[SWAS_PACKAGE];
// The client's Config and RuntimeOptions come from the very copies the client itself loads.
const requireFromSwas = createRequire(createRequire(import.meta.url).resolve(SWAS_PACKAGE));
const { $OpenApiUtil } = requireFromSwas('@alicloud/openapi-core');
const $dara = requireFromSwas('@darabonba/typescript');
const SwasClient = swas.default;

const WATCHDOG_MS = 60000;
const REQUEST_TIMEOUT_MS = 10000;
const POLL_MS = 40;
const AK_ID = 'LTAIswasSdkInteropKey';
const AK_SECRET = 'swasSdkInteropSecret0123456789ab';
const REGION = 'cn-hangzhou';
const PAGED_REGION = 'cn-shanghai';
const PAGED = Array.from({ length: 25 }, (_, i) => `p-${String(i).padStart(3, '0')}`);
const LIFECYCLE_MS = 600;  // the stopping time of the instance whose statuses are followed

const INSTANCES = [
  { InstanceId: 's-lifecycle', RegionId: REGION, stopping_ms: LIFECYCLE_MS },
  { InstanceId: 's-token', RegionId: REGION },
  { InstanceId: 's-stuck', RegionId: REGION, stopping_ms: 50, stop_outcome: 'StuckStopping' },
  { InstanceId: 's-stopped', RegionId: REGION, state: 'Stopped' },
  { InstanceId: 's-back', RegionId: REGION, stopping_ms: 150, stop_outcome: 'BackToRunning' },
  // StopInstances
  ...['m-1', 'm-2'].map((id) => ({ InstanceId: id, RegionId: REGION, stopping_ms: LIFECYCLE_MS })),
  ...['m-3', 'm-4', 'm-5', 'm-6', 'm-7'].map((id) => ({ InstanceId: id, RegionId: REGION })),
  ...PAGED.map((id) => ({ InstanceId: id, RegionId: PAGED_REGION, state: 'Stopped' })),
];

// ---------------------------------------------------------------------------------------------
// Lifetime

const emulator = new EmulatorProcess();

const { fatal, check, conclude } = supervise(emulator, 'swas_sdk', WATCHDOG_MS);

// ---------------------------------------------------------------------------------------------
// The SDK, as an application would use it (endpoint and CA aside). Every call is counted so the
// emulator's per-action counts can be checked against what was really sent.

const sent = { StopInstance: 0, StopInstances: 0, ListInstanceStatus: 0 };
let client = null;

function makeClient() {
  return new SwasClient(new $OpenApiUtil.Config({
    accessKeyId: AK_ID,
    accessKeySecret: AK_SECRET,
    regionId: REGION,
    endpoint: `localhost:${emulator.port}`,
    protocol: 'https',
    ca: emulator.caPem,  // the SDK ignores NODE_EXTRA_CA_CERTS
    readTimeout: REQUEST_TIMEOUT_MS,
    connectTimeout: REQUEST_TIMEOUT_MS,
  }));
}

const runtime = () => new $dara.RuntimeOptions({ readTimeout: REQUEST_TIMEOUT_MS,
  connectTimeout: REQUEST_TIMEOUT_MS });

function stop(instanceId, clientToken, regionId = REGION) {
  sent.StopInstance++;
  return client.stopInstanceWithOptions(
    new swas.StopInstanceRequest({ instanceId, regionId, clientToken }), runtime());
}

function stopMany(instanceIds, { clientToken, forceStop, regionId = REGION } = {}) {
  sent.StopInstances++;
  return client.stopInstancesWithOptions(new swas.StopInstancesRequest({
    regionId, clientToken, forceStop,
    instanceIds: typeof instanceIds === 'string' ? instanceIds : JSON.stringify(instanceIds),
  }), runtime());
}

// POST /__emulator/quotas (the config's "quotas" and "quota_retry_after").
async function setQuotas(body) {
  const r = await emulator.request({ method: 'POST', pathAndQuery: '/__emulator/quotas', body: JSON.stringify(body) });
  if (r.status !== 200) throw new Error(`admin quotas: HTTP ${r.status}: ${r.text}`);
}

function list({ instanceIds, pageNumber, pageSize, regionId = REGION } = {}) {
  sent.ListInstanceStatus++;
  return client.listInstanceStatusWithOptions(
    new swas.ListInstanceStatusRequest({ regionId, instanceIds, pageNumber, pageSize }), runtime());
}

// The SDK's parsed body for one instance's status, or undefined when it is not listed.
async function statusOf(instanceId) {
  const r = await list({ instanceIds: JSON.stringify([instanceId]) });
  return r.body.instanceStatuses.find((s) => s.instanceId === instanceId)?.status;
}

// Expects the SDK call to fail with the cloud error `code` and HTTP `status`, as the SDK parsed it.
async function expectSdkError(promise, code, status) {
  let r;
  try {
    r = await promise;
  } catch (e) {
    if (e.code !== code || Number(e.statusCode) !== status) {
      throw new Error(`expected ${code}/${status}, got ${e.name} ${e.code}/${e.statusCode}: ${e.message}`);
    }
    if (!(typeof e.requestId === 'string' && e.requestId.length > 0 && e.data && e.data.RequestId === e.requestId)) {
      throw new Error(`error without a RequestId: ${JSON.stringify(e.data)}`);
    }
    return e;
  }
  throw new Error(`expected ${code}/${status}, got success: ${JSON.stringify(r.body)}`);
}

// ---------------------------------------------------------------------------------------------
// Checks

function assert(cond, msg) { if (!cond) throw new Error(msg); }
const stopsOf = (state, id) => Number((state.stops ?? {})[id] ?? 0);

async function runChecks() {
  await check('(a) StopInstance: 200, RequestId parsed by the SDK; ListInstanceStatus follows Stopping then Stopped after the stopping time', async () => {
    assert(await statusOf('s-lifecycle') === 'Running', 'not Running before the stop');
    const started = Date.now();
    const r = await stop('s-lifecycle', randomUUID());
    assert(r.statusCode === 200, `HTTP ${r.statusCode}`);
    assert(r.body instanceof swas.StopInstanceResponseBody, 'body not parsed into StopInstanceResponseBody');
    assert(typeof r.body.requestId === 'string' && r.body.requestId === r.headers['x-acs-request-id'],
      `RequestId ${r.body.requestId} vs header ${r.headers['x-acs-request-id']}`);
    const seen = [];
    let stoppedAfterMs = -1;
    while (Date.now() - started < LIFECYCLE_MS + 5000) {
      const status = await statusOf('s-lifecycle');
      if (seen[seen.length - 1] !== status) seen.push(status);
      if (status === 'Stopped') {
        stoppedAfterMs = Date.now() - started;
        break;
      }
      await sleep(POLL_MS);
    }
    assert(seen.join(' ') === 'Stopping Stopped', `statuses seen: ${seen.join(' ')}`);
    // The emulator stopped it after `started` and saw it Stopped before the answer came back, so
    // the whole stopping time lies within (ms rounding aside).
    assert(stoppedAfterMs >= LIFECYCLE_MS - 5, `Stopped after ${stoppedAfterMs} ms, stopping time ${LIFECYCLE_MS} ms`);
  });

  await check('(b) ListInstanceStatus answer parsed by the SDK: model types, paging fields, TotalCount', async () => {
    const r = await list({ instanceIds: JSON.stringify(['s-token', 's-stopped']) });
    assert(r.statusCode === 200, `HTTP ${r.statusCode}`);
    const b = r.body;
    assert(b instanceof swas.ListInstanceStatusResponseBody, 'body not parsed into ListInstanceStatusResponseBody');
    assert(b.instanceStatuses.every((s) => s instanceof swas.ListInstanceStatusResponseBodyInstanceStatuses),
      'statuses not parsed into ListInstanceStatusResponseBodyInstanceStatuses');
    assert(b.totalCount === 2 && b.pageNumber === 1 && b.pageSize === 10,
      `TotalCount ${b.totalCount} PageNumber ${b.pageNumber} PageSize ${b.pageSize}`);
    assert(typeof b.requestId === 'string' && b.requestId === r.headers['x-acs-request-id'], `RequestId ${b.requestId}`);
    const got = b.instanceStatuses.map((s) => `${s.instanceId}=${s.status}`).join(' ');
    assert(got === 's-stopped=Stopped s-token=Running', `statuses ${got}`);
  });

  await check('(c) unknown ids and instances of another region are absent', async () => {
    const r = await list({ instanceIds: JSON.stringify(['i-does-not-exist', 's-token', PAGED[0]]) });
    const got = r.body.instanceStatuses.map((s) => s.instanceId).join(' ');
    assert(got === 's-token' && r.body.totalCount === 1, `listed ${got}, TotalCount ${r.body.totalCount}`);
    const none = await list({ instanceIds: JSON.stringify(['i-does-not-exist']) });
    assert(none.body.totalCount === 0 && none.body.instanceStatuses.length === 0,
      `unknown id: TotalCount ${none.body.totalCount}, ${none.body.instanceStatuses.length} listed`);
  });

  await check('(d) paging without InstanceIds: PageNumber/PageSize honoured, every instance once, in order', async () => {
    const ids = [];
    for (const [pageNumber, want] of [[1, 10], [2, 10], [3, 5], [4, 0]]) {
      const r = await list({ regionId: PAGED_REGION, pageNumber, pageSize: 10 });
      const b = r.body;
      assert(b.totalCount === PAGED.length && b.pageNumber === pageNumber && b.pageSize === 10,
        `page ${pageNumber}: TotalCount ${b.totalCount} PageNumber ${b.pageNumber} PageSize ${b.pageSize}`);
      assert(b.instanceStatuses.length === want, `page ${pageNumber}: ${b.instanceStatuses.length} listed, want ${want}`);
      ids.push(...b.instanceStatuses.map((s) => s.instanceId));
    }
    assert(ids.join(',') === PAGED.join(','), `pages gave ${ids.join(',')}`);
    const defaults = await list({ regionId: PAGED_REGION });
    assert(defaults.body.pageNumber === 1 && defaults.body.pageSize === 10 && defaults.body.instanceStatuses.length === 10,
      `defaults: PageNumber ${defaults.body.pageNumber} PageSize ${defaults.body.pageSize}`);
  });

  await check('(e) 100 InstanceIds are accepted; 101: 400 InvalidParameter, parsed by the SDK; so is a non-array', async () => {
    const hundred = [...PAGED, ...Array.from({ length: 75 }, (_, i) => `i-absent-${i}`)];
    const r = await list({ regionId: PAGED_REGION, instanceIds: JSON.stringify(hundred), pageSize: 100 });
    assert(r.body.totalCount === PAGED.length && r.body.instanceStatuses.length === PAGED.length,
      `100 ids: TotalCount ${r.body.totalCount}`);
    const e = await expectSdkError(list({ regionId: PAGED_REGION, instanceIds: JSON.stringify([...hundred, 'i-101']) }),
      'InvalidParameter', 400);
    assert(/InstanceIds/.test(e.data.Message), `message ${e.data.Message}`);
    await expectSdkError(list({ instanceIds: 's-token,s-stopped' }), 'InvalidParameter', 400);
    await expectSdkError(list({ pageSize: 101 }), 'InvalidParameter', 400);
    await expectSdkError(list({ regionId: '' }), 'MissingParameter', 400);
  });

  await check('(f) StopInstance of a Stopped instance: 403 IncorrectInstanceStatus, code parsed by the SDK', async () => {
    const e = await expectSdkError(stop('s-stopped', randomUUID()), 'IncorrectInstanceStatus', 403);
    assert(e.name === 'ClientError', `error class ${e.name}`);
    assert(e.data.Message === 'The state of the current instance does not support this operation.', `message ${e.data.Message}`);
  });

  await check('(g) StopInstance of a Stopping instance (fault: stuck in Stopping): 403 IncorrectInstanceStatus', async () => {
    const r = await stop('s-stuck', randomUUID());
    assert(r.statusCode === 200, `first stop: HTTP ${r.statusCode}`);
    await sleep(150);  // three times its stopping time
    assert(await statusOf('s-stuck') === 'Stopping', 'not Stopping any more');
    await expectSdkError(stop('s-stuck', randomUUID()), 'IncorrectInstanceStatus', 403);
    const s = await emulator.state();
    assert(stopsOf(s, 's-stuck') === 1, `stops[s-stuck] = ${stopsOf(s, 's-stuck')}, want 1`);
  });

  await check('(h) ClientToken: a retry gets the first RequestId and stops once; the token with another instance: IdempotentParameterMismatch', async () => {
    const token = randomUUID();
    const first = await stop('s-token', token);
    const again = await stop('s-token', token);
    assert(first.body.requestId && again.body.requestId === first.body.requestId,
      `RequestIds ${first.body.requestId} / ${again.body.requestId}`);
    await expectSdkError(stop('s-back', token), 'IdempotentParameterMismatch', 400);
    const s = await emulator.state();
    assert(stopsOf(s, 's-token') === 1 && stopsOf(s, 's-back') === 0,
      `stops s-token=${stopsOf(s, 's-token')} s-back=${stopsOf(s, 's-back')}`);
  });

  await check('(i) StopInstances (ForceStop): 200, RequestId parsed by the SDK; both instances go Stopping then Stopped', async () => {
    const r = await stopMany(['m-1', 'm-2'], { clientToken: randomUUID(), forceStop: true });
    assert(r.statusCode === 200, `HTTP ${r.statusCode}`);
    assert(r.body instanceof swas.StopInstancesResponseBody, 'body not parsed into StopInstancesResponseBody');
    assert(typeof r.body.requestId === 'string' && r.body.requestId === r.headers['x-acs-request-id'],
      `RequestId ${r.body.requestId} vs header ${r.headers['x-acs-request-id']}`);
    const statuses = async () => {
      const l = await list({ instanceIds: JSON.stringify(['m-1', 'm-2']) });
      return l.body.instanceStatuses.map((x) => `${x.instanceId}=${x.status}`).join(' ');
    };
    assert(await statuses() === 'm-1=Stopping m-2=Stopping', 'not both Stopping right after the stop');
    let now = '';
    for (const started = Date.now(); Date.now() - started < LIFECYCLE_MS + 5000; await sleep(POLL_MS)) {
      now = await statuses();
      if (now === 'm-1=Stopped m-2=Stopped') break;
    }
    assert(now === 'm-1=Stopped m-2=Stopped', `statuses ${now}`);
    const s = await emulator.state();
    assert(stopsOf(s, 'm-1') === 1 && stopsOf(s, 'm-2') === 1, `stops m-1=${stopsOf(s, 'm-1')} m-2=${stopsOf(s, 'm-2')}`);
    const logged = s.log.filter((e) => e.action === 'StopInstances').at(-1);
    assert(logged && logged.InstanceIds === '["m-1","m-2"]' && logged.ForceStop === 'true',
      `the emulator received ${JSON.stringify(logged)}`);
  });

  await check('(j) StopInstances ClientToken: a retry gets the first RequestId and stops once; reordered ids or another ForceStop: IdempotentParameterMismatch', async () => {
    const token = randomUUID();
    const first = await stopMany(['m-3', 'm-4'], { clientToken: token });
    const again = await stopMany(['m-3', 'm-4'], { clientToken: token });
    assert(first.body.requestId && again.body.requestId === first.body.requestId,
      `RequestIds ${first.body.requestId} / ${again.body.requestId}`);
    await expectSdkError(stopMany(['m-4', 'm-3'], { clientToken: token }), 'IdempotentParameterMismatch', 400);
    await expectSdkError(stopMany(['m-3', 'm-4'], { clientToken: token, forceStop: true }), 'IdempotentParameterMismatch', 400);
    const s = await emulator.state();
    assert(stopsOf(s, 'm-3') === 1 && stopsOf(s, 'm-4') === 1, `stops m-3=${stopsOf(s, 'm-3')} m-4=${stopsOf(s, 'm-4')}`);
  });

  await check('(k) StopInstances is all or nothing: a Stopped or unknown instance refuses the call, naming it; 101 ids or a comma list: InvalidParameter', async () => {
    const stopped = await expectSdkError(stopMany(['m-5', 's-stopped']), 'IncorrectInstanceStatus', 403);
    assert(/InstanceId: s-stopped$/.test(stopped.data.Message), `message ${stopped.data.Message}`);
    const unknown = await expectSdkError(stopMany(['m-5', 'i-does-not-exist']), 'InvalidInstanceId.NotFound', 404);
    assert(/InstanceId: i-does-not-exist$/.test(unknown.data.Message), `message ${unknown.data.Message}`);
    const ids = Array.from({ length: 101 }, (_, i) => `m-x${i}`);
    await expectSdkError(stopMany(ids), 'InvalidParameter', 400);
    await expectSdkError(stopMany('m-5,m-6'), 'InvalidParameter', 400);
    assert(await statusOf('m-5') === 'Running', 'm-5 was touched');
    assert(stopsOf(await emulator.state(), 'm-5') === 0, 'm-5 counted a stop');
  });

  await check('(l) quotas: past "1/3600s" StopInstances is a ThrottlingError Throttling.User (HTTP 400) with no effect; retryAfter only when quota_retry_after', async () => {
    const before = (await emulator.state()).quota_calls?.StopInstances?.[AK_ID] ?? { allowed: 0, throttled: 0 };
    await setQuotas({ quotas: { StopInstances: '1/3600s' } });
    assert((await stopMany(['m-5'])).statusCode === 200, 'the first call of the window was refused');
    const token = randomUUID();
    const plain = await expectSdkError(stopMany(['m-6'], { clientToken: token }), 'Throttling.User', 400);
    assert(plain.name === 'ThrottlingError', `error class ${plain.name}`);
    assert(plain.data.Message === 'Request was denied due to user flow control.', `message ${plain.data.Message}`);
    assert(plain.retryAfter === undefined, `retryAfter ${plain.retryAfter} without quota_retry_after`);
    await setQuotas({ quotas: { StopInstances: '1/3600s' }, quota_retry_after: true });  // a fresh window
    assert((await stopMany(['m-7'])).statusCode === 200, 'the first call of the new window was refused');
    const timed = await expectSdkError(stopMany(['m-6'], { clientToken: token }), 'Throttling.User', 400);
    assert(Number.isInteger(timed.retryAfter) && timed.retryAfter >= 1 && timed.retryAfter <= 3600000,
      `retryAfter ${timed.retryAfter}`);
    // ListInstanceStatus (statusOf) has no quota: unaffected.
    assert(await statusOf('m-6') === 'Running', 'm-6 was touched by a throttled call');
    const s = await emulator.state();
    assert(stopsOf(s, 'm-6') === 0, 'm-6 counted a stop');
    const after = s.quota_calls.StopInstances[AK_ID];
    assert(after.allowed - before.allowed === 2 && after.throttled - before.throttled === 2,
      `quota_calls went from ${JSON.stringify(before)} to ${JSON.stringify(after)}`);
    await setQuotas({});
    // The throttled calls left no trace of their token: it now stops m-6 for real.
    assert((await stopMany(['m-6'], { clientToken: token })).statusCode === 200, 'm-6 not stopped after the quota was lifted');
    assert(stopsOf(await emulator.state(), 'm-6') === 1, 'm-6 not stopped once');
  });

  await check('(m) fault BackToRunning: Stopping, then Running again after its stopping time; it can be stopped again', async () => {
    const r = await stop('s-back', randomUUID());
    assert(r.statusCode === 200, `HTTP ${r.statusCode}`);
    assert(await statusOf('s-back') === 'Stopping', 'not Stopping right after the stop');
    await sleep(250);
    assert(await statusOf('s-back') === 'Running', 'not Running after its stopping time');
    assert((await stop('s-back', randomUUID())).statusCode === 200, 'second stop refused');
  });

  await check('(n) the emulator counted exactly the requests the SDK sent, per action, and logged the InstanceIds it received', async () => {
    const s = await emulator.state();
    const actions = s.actions ?? {};
    assert(Object.keys(sent).every((a) => actions[a] === sent[a]),
      `emulator counted ${JSON.stringify(actions)}, the SDK sent ${JSON.stringify(sent)}`);
    assert(Object.keys(actions).length === Object.keys(sent).length, `other actions: ${JSON.stringify(actions)}`);
    const last = s.log.filter((e) => e.action === 'ListInstanceStatus').at(-1);
    assert(last && last.InstanceIds === '["s-back"]' && last.RegionId === REGION, `last list ${JSON.stringify(last)}`);
  });
}

// ---------------------------------------------------------------------------------------------

async function main() {
  try {
    await emulator.start({
      ...toolPaths(),
      config: {
        credentials: [{ access_key_id: AK_ID, access_key_secret: AK_SECRET }],
        instances: INSTANCES,
        stop_delay_ms: 200,
      },
    });
  } catch (e) {
    fatal(`could not start swas-emulator: ${e.message}`);
  }
  console.log(`swas-emulator on localhost:${emulator.port} (pid ${emulator.child.pid})`);
  client = makeClient();
  try {
    await runChecks();
  } finally {
    await emulator.stop();
  }
  conclude();
}

main().catch((e) => fatal((e && e.stack) || String(e)));
