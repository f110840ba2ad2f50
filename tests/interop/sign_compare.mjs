// Randomised differential test: swas::sign_request_v3 (through swas-sign-cli) against the official
// Alibaba Cloud SDK's OpenApiUtil.getAuthorization(request, 'ACS3-HMAC-SHA256', ...).
//
//   node sign_compare.mjs --sign-cli PATH [--seed N] [--count N]
//   (or SWAS_SIGN_CLI, SWAS_INTEROP_SEED, SWAS_INTEROP_COUNT in the environment)
//
// Exits 0 and prints "N passed, 0 failed" only when every request signs identically.
// SWAS_INTEROP_STRICT=1 also counts the known SDK divergences (see KNOWN_DIVERGENCES) as failures.
import { spawnSync } from 'node:child_process';
import { createHash, randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import process from 'node:process';

import { loadSdk } from './sdk_loader.mjs';

const sdk = loadSdk(['@alicloud/openapi-util', '@alicloud/tea-typescript']);
const OpenApiUtil = sdk['@alicloud/openapi-util'].default;
const $tea = sdk['@alicloud/tea-typescript'];

// ---------------------------------------------------------------------------------------------
// Arguments

function argValue(name) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : undefined;
}
const signCli = argValue('--sign-cli') ?? process.env.SWAS_SIGN_CLI;
const seedArg = argValue('--seed') ?? process.env.SWAS_INTEROP_SEED;
const count = Number(argValue('--count') ?? process.env.SWAS_INTEROP_COUNT ?? 300);
const strict = process.env.SWAS_INTEROP_STRICT === '1';
if (!signCli || !existsSync(signCli)) {
  console.error(`FAIL: swas-sign-cli not found (--sign-cli / SWAS_SIGN_CLI): ${signCli}`);
  process.exit(1);
}
if (!Number.isInteger(count) || count < 1) {
  console.error(`FAIL: bad --count ${count}`);
  process.exit(1);
}
const seed = seedArg !== undefined ? Number(seedArg) >>> 0 : randomInt(0, 2 ** 32 - 1);
console.log(`seed ${seed} (reproduce with --seed ${seed} or SWAS_INTEROP_SEED=${seed}), ${count} random requests`);

// ---------------------------------------------------------------------------------------------
// Seeded PRNG (mulberry32) and helpers

function mulberry32(a) {
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rnd = mulberry32(seed);
const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1)); // inclusive
const chance = (p) => rnd() < p;
const pick = (arr) => arr[int(0, arr.length - 1)];
const randomCase = (s) => [...s].map((c) => (chance(0.5) ? c.toUpperCase() : c.toLowerCase())).join('');
const sha256hex = (s) => createHash('sha256').update(s, 'utf8').digest('hex');
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

const UNRESERVED = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~';
const SPECIAL = [' ', '*', '~', '+', '/', '%', '=', '&', '?', '#', '!', "'", '(', ')', ':', ';',
  '@', ',', '$', '[', ']', '"', '<', '>', '\\', '^', '`', '{', '|', '}', '%20', '%2A', '%7E'];
const MULTIBYTE = ['中', '文', '测试', '阿里云', 'é', 'ß', 'Ω', 'Ж', '€', '😀', '🚀', '👍🏽', '𝄞',
  '\u00a0', '\u3000', '\u200b'];
const CONTROL = ['\t', '\n', '\r', '\u0001', '\u007f'];
// Characters allowed in an HTTP header name (RFC 9110 token).
const TCHAR = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&\'*+-.^_`|~';

function randomString(minLen, maxLen, pools) {
  const n = int(minLen, maxLen);
  let s = '';
  for (let i = 0; i < n; i++) {
    const pool = pick(pools);
    s += typeof pool === 'string' ? pool[int(0, pool.length - 1)] : pick(pool);
  }
  return s;
}

// A query value: anything (well-formed UTF-16, no NUL), often empty.
function queryValue() {
  const r = rnd();
  if (r < 0.12) return '';
  if (r < 0.4) return randomString(1, 20, [UNRESERVED]);
  if (r < 0.45) return randomString(200, 600, [UNRESERVED, SPECIAL, MULTIBYTE]);
  return randomString(1, 24, [UNRESERVED, UNRESERVED, SPECIAL, MULTIBYTE, CONTROL]);
}

// A query name that the SDK can take as is: unreserved characters only (mixed case, digits,
// '-', '_', '.', '~').
function plainQueryName() {
  return chance(0.3) ? pick(['InstanceId', 'RegionId', 'ClientToken', 'Action', 'a', 'A', 'b', 'Z',
    '_', '~', '.', '-', 'a.b', 'a-b', 'a_b', 'a~b', 'Tag.1.Key', 'Tag.10.Key', 'Tag.2.Key'])
    : randomString(1, 12, [UNRESERVED]);
}
// A query name with reserved / multi-byte characters.
function specialQueryName() {
  return randomString(1, 10, [UNRESERVED, SPECIAL, MULTIBYTE]);
}

// Header value as an HTTP client could send it: visible ASCII, inner spaces/tabs, UTF-8 text;
// sometimes with leading/trailing spaces and tabs (both sides trim those).
function headerValue() {
  let v = chance(0.1) ? '' : randomString(1, 30, [TCHAR, ' ', '"(),/:;<=>?@[\\]{}', MULTIBYTE.slice(0, 13)]);
  if (chance(0.35)) v = randomString(1, 3, [' \t']) + v;
  if (chance(0.35)) v = v + randomString(1, 3, [' \t']);
  return v;
}

const HOSTS = ['swas.cn-hangzhou.aliyuncs.com', 'swas.ap-southeast-1.aliyuncs.com', 'localhost',
  '127.0.0.1', 'ecs.cn-shanghai.aliyuncs.com', '[::1]', 'swas-open.example.internal'];
const CONTENT_TYPES = ['application/json', 'application/json; charset=utf-8',
  'application/x-www-form-urlencoded', 'application/octet-stream', 'text/plain;charset=UTF-8'];

// One random request. `sdkQuery` is what the SDK gets, `cliQuery` what swas-sign-cli gets; they
// differ only for names with reserved characters, which the SDK never percent-encodes itself
// (see KNOWN_DIVERGENCES): for those the SDK gets the name pre-encoded with its own encoder
// (OpenApiUtil.getEncodeParam, the same function it applies to values).
function randomRequest(i) {
  const sdkQuery = {};
  const cliQuery = {};
  const nq = chance(0.05) ? 0 : int(1, 12);
  for (let k = 0; k < nq; k++) {
    const special = chance(0.3);
    const name = special ? specialQueryName() : plainQueryName();
    const sdkName = special ? OpenApiUtil.getEncodeParam(name) : name;
    if (name === '__proto__' || sdkName in sdkQuery) continue;
    const value = queryValue();
    sdkQuery[sdkName] = value;
    cliQuery[name] = value;
  }

  const body = chance(0.7) ? '' : randomString(0, 64, [UNRESERVED, SPECIAL, MULTIBYTE]);
  const payloadHash = body === '' ? EMPTY_SHA256 : sha256hex(body);
  let host = pick(HOSTS);
  if (chance(0.5)) host += `:${pick([443, 8080, 8443, int(1, 65535)])}`;
  const headers = [];
  const nameCase = (n) => (chance(0.4) ? randomCase(n) : n);
  headers.push([nameCase('host'), chance(0.1) ? ` ${host} ` : host]);
  headers.push([nameCase('x-acs-action'), pick(['StopInstance', 'StartInstance', 'RunInstances', 'ListInstanceStatus'])]);
  headers.push([nameCase('x-acs-version'), pick(['2020-06-01', '2014-05-26'])]);
  headers.push([nameCase('x-acs-date'), new Date(Date.UTC(2020, 0, 1) + int(0, 2 ** 31) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')]);
  headers.push([nameCase('x-acs-signature-nonce'), randomString(32, 32, ['0123456789abcdef'])]);
  headers.push([nameCase('x-acs-content-sha256'), payloadHash]);
  if (chance(0.3)) headers.push([nameCase('x-acs-security-token'), randomString(20, 400, [UNRESERVED, '+/='])]);
  if (chance(0.3)) headers.push([nameCase('content-type'), pick(CONTENT_TYPES)]);
  // Random x-acs-* headers, and headers that must not be signed.
  for (let k = int(0, 5); k > 0; k--) headers.push([nameCase(`x-acs-${randomString(1, 12, [TCHAR])}`), headerValue()]);
  for (let k = int(0, 4); k > 0; k--) {
    headers.push([nameCase(pick(['user-agent', 'accept', 'content-length', 'authorization', 'x-acsfoo',
      'x-ac-s', 'x-custom', 'hostname', 'content-typ', 'content-type-x', 'x-sdk-client', 'date'])), headerValue()]);
  }
  // One header per name, compared case-insensitively (duplicates: KNOWN_DIVERGENCES).
  const seen = new Set();
  const headerObj = {};
  for (const [n, v] of headers) {
    if (seen.has(n.toLowerCase()) || n === '__proto__') continue;
    seen.add(n.toLowerCase());
    headerObj[n] = v;
  }
  const ak = chance(0.8) ? `LTAI${randomString(12, 20, [UNRESERVED.slice(0, 62)])}` : randomString(1, 30, [UNRESERVED]);
  const secret = chance(0.8) ? randomString(30, 30, [UNRESERVED.slice(0, 62)]) : randomString(1, 40, [UNRESERVED, SPECIAL, MULTIBYTE]);
  return {
    label: `random #${i}`,
    method: chance(0.85) ? 'POST' : pick(['GET', 'PUT', 'DELETE']),
    pathname: chance(0.85) ? '/' : pick(['/instances', '/a/b-c/d_e.f', '/2020-06-01/x']),
    sdkQuery, cliQuery, headers: headerObj, payloadHash, ak, secret,
  };
}

// ---------------------------------------------------------------------------------------------
// The two signers

function sdkAuthorization(c) {
  const req = new $tea.Request();
  req.method = c.method;
  req.pathname = c.pathname;
  req.query = { ...c.sdkQuery };
  req.headers = { ...c.headers };
  return OpenApiUtil.getAuthorization(req, 'ACS3-HMAC-SHA256', c.payloadHash, c.ak, c.secret);
}

function cliLine(c) {
  return JSON.stringify({
    method: c.method, pathname: c.pathname, query: c.cliQuery, headers: c.headers,
    payload_hash: c.payloadHash, access_key_id: c.ak, access_key_secret: c.secret,
  });
}

function runCli(cases) {
  const input = cases.map(cliLine).join('\n') + '\n';
  const r = spawnSync(signCli, [], { input, encoding: 'utf8', timeout: 60000, maxBuffer: 64 << 20 });
  if (r.error || r.status !== 0) {
    console.error(`FAIL: swas-sign-cli exited with ${r.status} ${r.signal ?? ''} ${r.error ?? ''}`);
    console.error(r.stderr);
    process.exit(1);
  }
  const lines = r.stdout.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  if (lines.length !== cases.length) {
    console.error(`FAIL: swas-sign-cli printed ${lines.length} lines for ${cases.length} requests`);
    process.exit(1);
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Fixed cases: the reference vectors (checks the harness itself), then the random ones.

const V1_HEADERS = {
  host: 'ecs.cn-shanghai.aliyuncs.com',
  'x-acs-action': 'RunInstances',
  'x-acs-version': '2014-05-26',
  'x-acs-date': '2023-10-26T10:22:32Z',
  'x-acs-signature-nonce': '3156853299f313e23d1673dc12e1703d',
  'x-acs-content-sha256': EMPTY_SHA256,
};
const V1_QUERY = { ImageId: 'win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd', RegionId: 'cn-shanghai' };
const V1_EXPECTED = 'ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;x-acs-action;' +
  'x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,' +
  'Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0';
const vector1 = {
  label: 'reference vector 1 (official)', method: 'POST', pathname: '/',
  sdkQuery: V1_QUERY, cliQuery: V1_QUERY, headers: V1_HEADERS, payloadHash: EMPTY_SHA256,
  ak: 'YourAccessKeyId', secret: 'YourAccessKeySecret', expected: V1_EXPECTED,
};
const V2_QUERY = { ClientToken: '123e4567-e89b-12d3-a456-426655440000', InstanceId: 'ace0706b2ac4454d984295a94213abcd', RegionId: 'cn-hangzhou' };
const v2 = (label, extraHeaders, sig) => ({
  label, method: 'POST', pathname: '/', sdkQuery: V2_QUERY, cliQuery: V2_QUERY,
  headers: { ...V1_HEADERS, host: 'swas.cn-hangzhou.aliyuncs.com', 'x-acs-action': 'StopInstance', 'x-acs-version': '2020-06-01', ...extraHeaders },
  payloadHash: EMPTY_SHA256, ak: 'YourAccessKeyId', secret: 'YourAccessKeySecret', expectedSignature: sig,
});
const fixed = [
  vector1,
  v2('reference vector 2 (StopInstance)', {}, 'b5d7c53c1e00a28d11f6657c64e47f037fc978fbac4b386310ee37b62280f0c9'),
  v2('reference vector 2 + security token', { 'x-acs-security-token': 'TestSecurityToken' }, 'beb8ecdceb873d0207c5b1d1af291b3139542c57c0ca5459ce37784aebee13c5'),
  v2('reference vector 2, host with port', { host: '127.0.0.1:8080' }, '573f3ccab7bce402e9a52baaa2685ebf2c24da7678449f98c5912ec7dc926012'),
];

// Inputs where the Node SDK's getAuthorization deliberately differs from the V3 rules in
// docs/signature.md (and from swas::sign_request_v3). They are reported, not failed,
// unless SWAS_INTEROP_STRICT=1.
const base = () => ({ ...v2('', {}, null), expectedSignature: undefined });
const KNOWN_DIVERGENCES = [
  {
    ...base(), label: 'SDK: query NAMES are not percent-encoded (values are)',
    sdkQuery: { ...V2_QUERY, 'Tag 1/Key*': 'v' }, cliQuery: { ...V2_QUERY, 'Tag 1/Key*': 'v' },
  },
  {
    ...base(), label: 'SDK: header values trimmed with String.prototype.trim (Unicode spaces, \\v, \\f)',
    headers: { ...base().headers, 'x-acs-x': '\u00a0value\u3000', 'x-acs-y': '\u000bv\u000c' },
  },
  {
    ...base(), label: 'SDK: same header name in two cases is merged into one "a,b" line (values sorted)',
    headers: { ...base().headers, 'X-Acs-Dup': 'b', 'x-acs-dup': 'a' },
  },
];

// ---------------------------------------------------------------------------------------------

const cases = [...fixed];
for (let i = 1; i <= count; i++) cases.push(randomRequest(i));
const all = [...cases, ...KNOWN_DIVERGENCES];

let harnessOk = true;
for (const c of fixed) {
  const sdk = sdkAuthorization(c);
  const want = c.expected ?? null;
  const ok = want ? sdk === want : sdk.endsWith(`,Signature=${c.expectedSignature}`);
  console.log(`${ok ? 'ok  ' : 'FAIL'} harness: SDK reproduces ${c.label}`);
  if (!ok) {
    console.log(`     SDK gave: ${sdk}`);
    harnessOk = false;
  }
}

const cliOut = runCli(all);
let passed = 0;
let failed = 0;
const show = (c) => JSON.stringify({
  method: c.method, pathname: c.pathname, query: c.cliQuery, sdk_query: c.sdkQuery,
  headers: c.headers, payload_hash: c.payloadHash, access_key_id: c.ak, access_key_secret: c.secret,
}, null, 1);
for (let i = 0; i < cases.length; i++) {
  const c = cases[i];
  const want = sdkAuthorization(c);
  if (cliOut[i] === want) {
    passed++;
  } else {
    failed++;
    console.log(`FAIL ${c.label}: swas-sign-cli and the SDK disagree`);
    console.log(`  request: ${show(c)}`);
    console.log(`  SDK:           ${want}`);
    console.log(`  swas-sign-cli: ${cliOut[i]}`);
  }
}
for (let i = 0; i < KNOWN_DIVERGENCES.length; i++) {
  const c = KNOWN_DIVERGENCES[i];
  const want = sdkAuthorization(c);
  const got = cliOut[cases.length + i];
  const same = got === want;
  console.log(`${same ? 'note' : strict ? 'FAIL' : 'note'} known divergence, ${same ? 'now AGREES' : 'differs'}: ${c.label}`);
  if (!same) {
    console.log(`     SDK:           ${want}`);
    console.log(`     swas-sign-cli: ${got}`);
    if (strict) failed++;
  }
}
if (!harnessOk) failed++;
console.log(`sign_compare: ${passed} passed, ${failed} failed (seed ${seed})`);
process.exit(failed === 0 ? 0 : 1);
