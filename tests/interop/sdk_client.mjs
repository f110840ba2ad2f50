// The official Alibaba Cloud SDK client (@alicloud/openapi-client, callApi, signature V3) against
// the project's SWAS emulator over HTTPS on loopback.
//
//   node sdk_client.mjs --emulator PATH --make-certs PATH
//   (or SWAS_EMULATOR and SWAS_MAKE_TEST_CERTS in the environment)
//
// Starts the emulator itself (port 0, temp dir), always stops it, and never runs longer than the
// global watchdog. Prints "N passed, M failed"; exits 0 only when nothing failed.
import { randomBytes, randomUUID } from 'node:crypto';
import process from 'node:process';

import { EmulatorProcess, toolPaths, supervise } from './emulator_runner.mjs';
import { loadSdk } from './sdk_loader.mjs';

const sdk = loadSdk(['@alicloud/openapi-client', '@alicloud/openapi-util', '@alicloud/tea-util',
  '@alicloud/tea-typescript']);
const OpenApi = sdk['@alicloud/openapi-client'];
const OpenApiUtil = sdk['@alicloud/openapi-util'].default;
const Util = sdk['@alicloud/tea-util'];
const $tea = sdk['@alicloud/tea-typescript'];

const WATCHDOG_MS = 60000;
const REQUEST_TIMEOUT_MS = 10000;
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const AK_ID = 'LTAIswasInteropKey01';
const AK_SECRET = 'swasInteropSecret0123456789abcd';
const REGION = 'cn-hangzhou';
const INSTANCES = ['i-interop-a', 'i-interop-b', 'i-interop-c', 'i-interop-d', 'i-interop-e',
  'i-interop-f', 'i-interop-g'];
const PARALLEL = 16;

// ---------------------------------------------------------------------------------------------
// Lifetime: the emulator process and its temp dir are always cleaned up (emulator_runner.mjs).

const emulator = new EmulatorProcess();

const { fatal, check, conclude } = supervise(emulator, 'sdk_client', WATCHDOG_MS);

// ---------------------------------------------------------------------------------------------
// Clients

let port = 0;
let caPem = '';

function sdkClient(accessKeyId = AK_ID, accessKeySecret = AK_SECRET) {
  const config = new OpenApi.Config({
    accessKeyId,
    accessKeySecret,
    endpoint: `localhost:${port}`,
    protocol: 'https',
    ca: caPem,                                // NODE_EXTRA_CA_CERTS is not used by the SDK
    signatureAlgorithm: 'ACS3-HMAC-SHA256',   // the V3 default of callApi, set explicitly
    regionId: REGION,
    readTimeout: REQUEST_TIMEOUT_MS,
    connectTimeout: REQUEST_TIMEOUT_MS,
  });
  return new OpenApi.default(config);
}

async function sdkStop(client, instanceId, clientToken) {
  const params = new OpenApi.Params({
    action: 'StopInstance',
    version: '2020-06-01',
    protocol: 'HTTPS',
    pathname: '/',
    method: 'POST',
    authType: 'AK',
    style: 'RPC',
    reqBodyType: 'json',
    bodyType: 'json',
  });
  const request = new OpenApi.OpenApiRequest({
    query: { InstanceId: instanceId, RegionId: REGION, ClientToken: clientToken },
  });
  const runtime = new Util.RuntimeOptions({ autoretry: false, maxAttempts: 1,
    readTimeout: REQUEST_TIMEOUT_MS, connectTimeout: REQUEST_TIMEOUT_MS });
  return client.callApi(params, request, runtime);
}

// Expects the SDK call to throw the cloud error `code` with HTTP `status`.
async function expectSdkError(promise, code, status) {
  try {
    const r = await promise;
    throw new Error(`expected ${code}, got success: ${JSON.stringify(r.body)}`);
  } catch (e) {
    if (e.code !== code || Number(e.statusCode) !== status) {
      throw new Error(`expected ${code}/${status}, got ${e.code}/${e.statusCode}: ${e.message}`);
    }
    return e;
  }
}

const httpsRequest = (r) => emulator.request(r);
const emulatorState = () => emulator.state();
const stopsOf = (state, id) => Number((state.stops ?? {})[id] ?? 0);
const instanceOf = (state, id) => (state.instances ?? []).find((i) => (i.InstanceId ?? i.instance_id) === id);
const stateOf = (inst) => inst && (inst.state ?? inst.State ?? inst.Status);

// A StopInstance request built and signed with the SDK's own getAuthorization, as callApi does,
// but sent with node's https module so that it can be altered after signing.
function signedStop({ query, date = OpenApiUtil.getTimestamp(), nonce = randomBytes(16).toString('hex'),
  accessKeyId = AK_ID, accessKeySecret = AK_SECRET }) {
  const req = new $tea.Request();
  req.method = 'POST';
  req.pathname = '/';
  req.query = { ...query };
  req.headers = {
    host: `localhost:${port}`,
    'x-acs-action': 'StopInstance',
    'x-acs-version': '2020-06-01',
    'x-acs-date': date,
    'x-acs-signature-nonce': nonce,
    'x-acs-content-sha256': EMPTY_SHA256,
    accept: 'application/json',
  };
  req.headers.Authorization = OpenApiUtil.getAuthorization(req, 'ACS3-HMAC-SHA256', EMPTY_SHA256, accessKeyId, accessKeySecret);
  return req;
}
const encodeQuery = (q, enc = OpenApiUtil.getEncodeParam) =>
  Object.entries(q).map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
function sendSigned(req, wireQuery = encodeQuery(req.query)) {
  return httpsRequest({ method: req.method, pathAndQuery: `/?${wireQuery}`,
    headers: { ...req.headers, 'content-length': '0' } });
}
function expectCloudError(r, code, status) {
  const got = r.json && r.json.Code;
  if (got !== code || r.status !== status) {
    throw new Error(`expected ${code}/${status}, got ${got}/${r.status}: ${r.text.slice(0, 300)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Checks

function assert(cond, msg) { if (!cond) throw new Error(msg); }

async function runChecks() {
  const client = sdkClient();
  const [a, b, c, d, e, f, g] = INSTANCES;
  const tokenA = randomUUID();
  let firstRequestId = null;

  await check('(a) SDK StopInstance succeeds, returns a RequestId; emulator shows one stop', async () => {
    const r = await sdkStop(client, a, tokenA);
    assert(r.statusCode === 200, `HTTP ${r.statusCode}`);
    firstRequestId = r.body && r.body.RequestId;
    assert(typeof firstRequestId === 'string' && firstRequestId.length > 0, `no RequestId in ${JSON.stringify(r.body)}`);
    const s = await emulatorState();
    assert(stopsOf(s, a) === 1, `stops[${a}] = ${stopsOf(s, a)}, want 1`);
    const st = stateOf(instanceOf(s, a));
    assert(st === 'Stopping' || st === 'Stopped', `${a} state ${st}, want Stopping/Stopped`);
  });

  await check('(b) same ClientToken again: same RequestId, still one stop', async () => {
    const r = await sdkStop(client, a, tokenA);
    assert(r.statusCode === 200, `HTTP ${r.statusCode}`);
    assert(r.body.RequestId === firstRequestId, `RequestId ${r.body.RequestId}, first was ${firstRequestId}`);
    const s = await emulatorState();
    assert(stopsOf(s, a) === 1, `stops[${a}] = ${stopsOf(s, a)}, want 1`);
  });

  await check('(c) second stop of another instance with a new token: 403 IncorrectInstanceStatus', async () => {
    const r = await sdkStop(client, b, randomUUID());
    assert(r.statusCode === 200 && r.body.RequestId, `first stop of ${b}: HTTP ${r.statusCode}`);
    const e = await expectSdkError(sdkStop(client, b, randomUUID()), 'IncorrectInstanceStatus', 403);
    assert(e.data && e.data.RequestId, 'error without RequestId');
    const s = await emulatorState();
    assert(stopsOf(s, b) === 1, `stops[${b}] = ${stopsOf(s, b)}, want 1`);
  });

  await check('(d1) query value changed after signing: 400 SignatureDoesNotMatch, nothing stopped', async () => {
    const req = signedStop({ query: { InstanceId: c, RegionId: REGION, ClientToken: randomUUID() } });
    const tampered = encodeQuery({ ...req.query, ClientToken: randomUUID() });
    expectCloudError(await sendSigned(req, tampered), 'SignatureDoesNotMatch', 400);
    const r2 = signedStop({ query: { InstanceId: c, RegionId: REGION, ClientToken: randomUUID() } });
    expectCloudError(await sendSigned(r2, encodeQuery({ ...r2.query, InstanceId: d })), 'SignatureDoesNotMatch', 400);
    const s = await emulatorState();
    assert(stopsOf(s, c) === 0 && stopsOf(s, d) === 0, `stops c=${stopsOf(s, c)} d=${stopsOf(s, d)}, want 0`);
  });

  await check('(d2) signed header changed after signing: 400 SignatureDoesNotMatch', async () => {
    const req = signedStop({ query: { InstanceId: c, RegionId: REGION, ClientToken: randomUUID() } });
    req.headers['x-acs-version'] = '2020-06-02';
    expectCloudError(await sendSigned(req), 'SignatureDoesNotMatch', 400);
  });

  await check('(d3) SDK client with a wrong secret: 400 SignatureDoesNotMatch', async () => {
    await expectSdkError(sdkStop(sdkClient(AK_ID, `${AK_SECRET}x`), c, randomUUID()), 'SignatureDoesNotMatch', 400);
  });

  await check('(d4) SDK client with an unknown AccessKeyId: 404 InvalidAccessKeyId.NotFound', async () => {
    await expectSdkError(sdkStop(sdkClient('LTAIunknownKey0000', AK_SECRET), c, randomUUID()), 'InvalidAccessKeyId.NotFound', 404);
    const s = await emulatorState();
    assert(stopsOf(s, c) === 0, `stops[${c}] = ${stopsOf(s, c)}, want 0`);
  });

  await check('(e) x-acs-date 20 min old (correctly signed): 400 InvalidTimeStamp.Expired', async () => {
    const old = new Date(Date.now() - 20 * 60 * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const req = signedStop({ date: old, query: { InstanceId: c, RegionId: REGION, ClientToken: randomUUID() } });
    expectCloudError(await sendSigned(req), 'InvalidTimeStamp.Expired', 400);
  });

  await check('(f) hand-signed request with an equivalent wire encoding succeeds; its replay: SignatureNonceUsed', async () => {
    // Percent-encoding unreserved characters ('-' as %2D) changes the bytes, not the request:
    // the verifier must canonicalise the decoded parameters.
    const req = signedStop({ query: { InstanceId: c, RegionId: REGION, ClientToken: randomUUID() } });
    const wire = encodeQuery(req.query, (s) => OpenApiUtil.getEncodeParam(s).replace(/-/g, '%2D'));
    const r = await sendSigned(req, wire);
    assert(r.status === 200 && r.json && r.json.RequestId, `HTTP ${r.status}: ${r.text.slice(0, 300)}`);
    expectCloudError(await sendSigned(req, wire), 'SignatureNonceUsed', 400);
    const s = await emulatorState();
    assert(stopsOf(s, c) === 1, `stops[${c}] = ${stopsOf(s, c)}, want 1`);
  });

  await check('(g) ClientToken with characters the SDK sends unescaped (*\'()!) or as %20: accepted, idempotent', async () => {
    // The SDK puts the query on the wire with querystring.stringify ('*', "'", '(', ')', '!'
    // unescaped) but signs the RFC 3986 form ('%2A', '%27', ...): the verifier must decode first.
    const token = "tok *'()!~-_.+/=&%:@";
    const r1 = await sdkStop(client, e, token);
    const r2 = await sdkStop(client, e, token);
    assert(r1.body.RequestId && r1.body.RequestId === r2.body.RequestId, `RequestIds ${r1.body.RequestId} / ${r2.body.RequestId}`);
    const s = await emulatorState();
    assert(stopsOf(s, e) === 1, `stops[${e}] = ${stopsOf(s, e)}, want 1`);
  });

  await check(`(h) ${PARALLEL} concurrent SDK calls, one ClientToken: one RequestId, one stop`, async () => {
    const token = randomUUID();
    const rs = await Promise.all(Array.from({ length: PARALLEL }, () => sdkStop(sdkClient(), f, token)));
    const ids = new Set(rs.map((r) => r.body.RequestId));
    assert(ids.size === 1, `${ids.size} different RequestIds: ${[...ids].join(' ')}`);
    const s = await emulatorState();
    assert(stopsOf(s, f) === 1, `stops[${f}] = ${stopsOf(s, f)}, want 1`);
  });

  await check(`(i) ${PARALLEL} concurrent SDK calls, distinct tokens, one instance: one success, rest IncorrectInstanceStatus`, async () => {
    const rs = await Promise.allSettled(Array.from({ length: PARALLEL }, () => sdkStop(sdkClient(), g, randomUUID())));
    const ok = rs.filter((r) => r.status === 'fulfilled' && r.value.statusCode === 200).length;
    const refused = rs.filter((r) => r.status === 'rejected' && r.reason.code === 'IncorrectInstanceStatus' &&
      Number(r.reason.statusCode) === 403).length;
    assert(ok === 1 && refused === PARALLEL - 1, `${ok} succeeded, ${refused} IncorrectInstanceStatus, of ${PARALLEL}` +
      rs.filter((r) => r.status === 'rejected').slice(0, 3).map((r) => `; ${r.reason.code}`).join(''));
    const s = await emulatorState();
    assert(stopsOf(s, g) === 1, `stops[${g}] = ${stopsOf(s, g)}, want 1`);
  });

  await check('(j) emulator counted the requests it answered; stop counts overall', async () => {
    const s = await emulatorState();
    const want = 12 + 2 + 2 * PARALLEL;
    assert(Number(s.requests) >= want, `requests = ${s.requests}, want >= ${want}`);
    const total = Object.values(s.stops ?? {}).reduce((x, y) => x + Number(y), 0);
    assert(total === 6 && stopsOf(s, d) === 0, `stops ${JSON.stringify(s.stops)}, want a,b,c,e,f,g once each`);
  });
}

// ---------------------------------------------------------------------------------------------

async function main() {
  try {
    await emulator.start({
      ...toolPaths(),
      config: {
        credentials: [{ access_key_id: AK_ID, access_key_secret: AK_SECRET }],
        instances: INSTANCES.map((id) => ({ InstanceId: id, RegionId: REGION, state: 'Running' })),
        stop_delay_ms: 200,
      },
    });
  } catch (e) {
    fatal(`could not start swas-emulator: ${e.message}`);
  }
  port = emulator.port;
  caPem = emulator.caPem;
  console.log(`swas-emulator on localhost:${port} (pid ${emulator.child.pid})`);
  try {
    await runChecks();
  } finally {
    await emulator.stop();
  }
  conclude();
}

main().catch((e) => fatal((e && e.stack) || String(e)));
