// The dashboard's decisions, with no DOM and no MQTT: topics, commands, status and result
// reading, hints. Runs in the browser and under node (tests/browser/model_test.mjs).

export const GATEWAY_ID = /^[A-Za-z0-9_.-]{1,64}$/;
export const REGION_ID = /^[a-z0-9-]{1,64}$/;
export const STATUS_FILTER = 'swas/+/status';
export const RESULT_TIMEOUT_MS = 30000;
// MQTT 5 Message Expiry of a command: neither the broker nor the agent starts it after this, so
// a command the page gave up on does not stop an instance hours later.
export const COMMAND_EXPIRY_S = 30;

// What an operator can do about an error Code. "Forbidden.RAM" matches "Forbidden".
export const HINTS = {
  IncorrectInstanceStatus:
    'The instance is not Running (already stopped or stopping?). Check its state in the console.',
  'InvalidInstanceId.NotFound': 'No such instance in that region: check the InstanceId and the RegionId.',
  CloudUnreachable:
    'The gateway could not reach the cloud (network, DNS, proxy or TLS) and gave up retrying. Fix that, then stop again.',
  Busy: "The gateway's command queue is full. Retry in a few seconds.",
  InvalidParameter: 'A parameter is malformed: RegionId is a-z 0-9 -, ClientToken at most 64 ASCII characters.',
  MissingParameter: 'InstanceId and RegionId are both required.',
  Forbidden: "The gateway's RAM user is not allowed swas-open:StopInstance on this instance: grant it in RAM.",
  Throttled: 'The cloud is throttling requests. Wait a little, then stop again.',
  Throttling: 'The cloud is throttling requests. Wait a little, then stop again.',
  CredentialsMissing:
    'The gateway has no Alibaba Cloud credentials: provide its credentials file (mode 600) and restart the agent.',
  SignatureDoesNotMatch: "The gateway's AccessKey secret is wrong (or a proxy altered the request).",
  'InvalidAccessKeyId.NotFound': "The gateway's AccessKeyId does not exist or is disabled.",
  'InvalidTimeStamp.Expired': "The gateway's clock is more than 15 minutes off: enable NTP on it.",
  IdempotentParameterMismatch: 'This ClientToken was used before with other parameters.',
  InvalidCloudResponse: "The cloud's answer was unreadable and the stop may have happened: check the instance first.",
  CommandExpired: 'The command expired before it started (the gateway was offline or busy), so the cloud was not ' +
    'called unless the message says otherwise. Stop again if it is still wanted.',
  InvalidCommand: "The agent could not read the command: is the gateway's agent a compatible version?",
  UnsupportedAction: "The gateway's agent does not support this action.",
};

// What the history offers after an error. The agent records every final result under the command
// id, so only Busy (not accepted) is worth sending again with the same id; after other errors
// whose cause may pass, the operator can stop again with a new command (through the form).
const STOP_AGAIN = new Set(['CloudUnreachable', 'InvalidCloudResponse', 'CommandExpired', 'CredentialsMissing',
  'Throttling', 'Throttled', 'ServiceUnavailable', 'InternalError']);
export function nextStep(result) {
  if (!result || result.ok) return null;
  if (result.source === 'agent' && result.code === 'Busy') return 'resend';
  const base = result.code.split('.')[0];
  return STOP_AGAIN.has(result.code) || STOP_AGAIN.has(base) ? 'stop-again' : null;
}

export function hintFor(code) {
  if (typeof code !== 'string' || code === '') return null;
  for (const [known, hint] of Object.entries(HINTS)) {
    if (code === known || code.startsWith(`${known}.`)) return hint;
  }
  return null;
}

export function randomHex(bytes) {
  const buf = new Uint8Array(bytes);
  globalThis.crypto.getRandomValues(buf);
  return Array.from(buf, (b) => b.toString(16).padStart(2, '0')).join('');
}

// dash-20261126T030000Z-1a2b3c: sortable and unique enough with the random tail.
export function newCommandId(now = new Date(), tail = randomHex(3)) {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  return `dash-${stamp}-${tail}`;
}

export const commandTopic = (gateway) => `swas/${gateway}/commands`;
// Results come back under the gateway's own prefix (so per-gateway broker ACLs work), on a
// topic only this page session listens to.
export const replyTopic = (gateway, session) => `swas/${gateway}/replies/${session}`;
export const replyFilter = (session) => `swas/+/replies/${session}`;

// An error message for the stop form, or null when it can be sent.
export function validateStop({ gateway, instanceId, regionId }) {
  if (!GATEWAY_ID.test(gateway ?? '')) return 'Gateway: 1-64 characters of A-Z a-z 0-9 _ . -';
  if (!instanceId) return 'InstanceId is required';
  if (instanceId.length > 256 || /[\u0000-\u001f\u007f]/.test(instanceId)) return 'InstanceId is not valid';
  if (!REGION_ID.test(regionId ?? '')) return 'RegionId: 1-64 characters of a-z 0-9 - (for example cn-hangzhou)';
  return null;
}

export function buildStopCommand({ id, instanceId, regionId, clientToken }) {
  const cmd = { type: 'command', id, action: 'StopInstance', InstanceId: instanceId, RegionId: regionId };
  if (clientToken) cmd.ClientToken = clientToken;
  return JSON.stringify(cmd);
}

function parseObject(text) {
  try {
    const v = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? v : null;
  } catch {
    return null;
  }
}

const str = (v) => (typeof v === 'string' ? v : '');
const COUNTERS = ['received', 'succeeded', 'failed', 'rejected', 'in_flight'];

// A status message on `topic`; null for an empty (cleared) retained message or anything else.
export function parseStatus(topic, text) {
  const msg = parseObject(text);
  if (!msg || msg.type !== 'status') return null;
  const levels = topic.split('/');
  const counters = {};
  const given = msg.counters && typeof msg.counters === 'object' ? msg.counters : {};
  for (const name of COUNTERS) if (Number.isFinite(given[name])) counters[name] = given[name];
  return {
    gateway: str(msg.gateway_id) || levels[levels.length - 2] || topic,
    state: str(msg.state) || 'unknown',
    version: str(msg.version),
    startedAt: str(msg.started_at),
    counters,
    lastError: str(msg.last_error),
  };
}

// The gateway a status topic belongs to (swas/<gateway>/status), for cleared retained messages.
export function gatewayOfTopic(topic) {
  const levels = topic.split('/');
  return levels.length >= 2 ? levels[levels.length - 2] : topic;
}

// A result message, read for display; null when `text` is not a result.
export function parseResult(text) {
  const msg = parseObject(text);
  if (!msg || msg.type !== 'result') return null;
  const error = msg.error && typeof msg.error === 'object' ? msg.error : {};
  const code = str(error.Code);
  return {
    id: typeof msg.id === 'string' ? msg.id : null,
    ok: msg.ok === true,
    requestId: msg.ok === true ? str(msg.RequestId) : str(error.RequestId),
    clientToken: str(msg.ClientToken),
    source: str(error.source),
    httpStatus: Number.isFinite(error.HttpStatus) ? error.HttpStatus : null,
    code,
    message: str(error.Message),
    hint: msg.ok === true ? null : hintFor(code),
  };
}

// The broker URL the page starts with: ?broker=URL, else ?ws=PORT on the page's host, else the
// last one used, else port 9001 (mosquitto's usual websockets port) on the page's host.
export function defaultBrokerUrl(location, remembered = '') {
  const params = new URLSearchParams(location.search ?? '');
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const host = location.hostname || '127.0.0.1';
  const shownHost = host.includes(':') ? `[${host}]` : host;
  if (params.get('broker')) return params.get('broker');
  const port = params.get('ws');
  if (port && /^\d{1,5}$/.test(port)) return `${scheme}://${shownHost}:${port}/`;
  if (remembered) return remembered;
  return `${scheme}://${shownHost}:9001/`;
}

export function isBrokerUrl(url) {
  return /^wss?:\/\/[^/\s]+/.test(url ?? '');
}
