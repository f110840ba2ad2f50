// The dashboard's decisions, with no DOM and no MQTT: topics, commands, status, result and
// lifecycle reading, hints. Runs in the browser and under node (tests/browser/model_test.mjs).

export const GATEWAY_ID = /^[A-Za-z0-9_.-]{1,64}$/;
export const REGION_ID = /^[a-z0-9-]{1,64}$/;
export const STATUS_FILTER = 'swas/+/status';
export const RESULT_TIMEOUT_MS = 30000;
// MQTT 5 Message Expiry of a command: neither the broker nor the agent starts it after this, so
// a command the page gave up on does not stop an instance hours later.
export const COMMAND_EXPIRY_S = 30;
// After a successful stop the agent follows the instance and publishes lifecycle messages
// (docs/contract.md, "Following a stop"). With none this long after the result, the page stops
// showing "following" and says quietly that the gateway does not report the lifecycle (an older
// agent, or follow.enabled false); a message that comes later is still shown. With the agent's
// default follow.interval_ms (10 s) the first one comes within about 20 s; 60 s leaves room for
// a retried poll (dashboard/README.md).
export const LIFECYCLE_QUIET_MS = 60000;

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

// ---------------------------------------------------------------------------------------------
// Lifecycle messages (docs/contract.md, "Following a stop to Stopped")

// The outcomes the contract names; another one (from a newer agent) is shown as it is.
export const LIFECYCLE_OUTCOMES = ['Stopped', 'TimedOut', 'UnexpectedStatus', 'NotFound', 'PollFailed', 'NotFollowed'];
const MAX_ELAPSED_MS = 1e12;            // ~31 years: anything larger is not a duration
const MAX_TEXT = 1024;                  // the agent bounds the cloud's strings at 1 KiB
const TOKEN = /^[\x20-\x7e]{1,64}$/;    // a Status or outcome: printable ASCII, as the agent checks
const isText = (v) => typeof v === 'string' && v.length <= MAX_TEXT;
const clip = (v) => (typeof v === 'string' ? v.slice(0, MAX_TEXT) : '');

// A lifecycle message read for display; null when `text` is not one, or is malformed: wrong
// types, a missing field, an impossible elapsed time, a Status or outcome that is not a short
// printable token. A malformed message is ignored as a whole, never half-believed.
export function parseLifecycle(text) {
  const msg = parseObject(text);
  if (!msg || msg.type !== 'lifecycle') return null;
  if (typeof msg.id !== 'string' || msg.id === '' || msg.id.length > 128) return null;
  for (const key of ['InstanceId', 'RegionId', 'RequestId']) if (!isText(msg[key])) return null;
  if (typeof msg.final !== 'boolean') return null;
  const elapsed = msg.elapsedMs;
  if (typeof elapsed !== 'number' || !Number.isFinite(elapsed) || elapsed < 0 || elapsed > MAX_ELAPSED_MS) return null;
  if (msg.Status !== null && !(typeof msg.Status === 'string' && TOKEN.test(msg.Status))) return null;
  if (msg.final && !(typeof msg.outcome === 'string' && TOKEN.test(msg.outcome))) return null;
  if (msg.Message !== undefined && typeof msg.Message !== 'string') return null;
  if (msg.error !== undefined && (!msg.error || typeof msg.error !== 'object' || Array.isArray(msg.error))) return null;
  const e = msg.error ?? null;
  return {
    id: msg.id,
    instanceId: msg.InstanceId,
    regionId: msg.RegionId,
    requestId: msg.RequestId,
    status: msg.Status,
    final: msg.final,
    outcome: msg.final ? msg.outcome : null,
    elapsedMs: Math.round(elapsed),
    message: clip(msg.Message),
    error: e && {
      source: clip(e.source),
      httpStatus: Number.isInteger(e.HttpStatus) ? e.HttpStatus : null,
      code: clip(e.Code),
      message: clip(e.Message),
      requestId: clip(e.RequestId),
    },
  };
}

// Whether lifecycle message `lc` is about command `cmd` (as the page sent it, with its result
// when one came): the same id, instance and region, and the RequestId of its successful stop.
export function lifecycleMatches(cmd, lc) {
  if (!cmd || !lc) return false;
  if (lc.id !== cmd.id || lc.instanceId !== cmd.instanceId || lc.regionId !== cmd.regionId) return false;
  if (!cmd.result) return true;  // the result may come later (republished after a reconnect)
  return cmd.result.ok === true && cmd.result.requestId === lc.requestId;
}

// The lifecycle to keep when `next` arrives on top of `current`: a final message ends the
// follow (a republished copy changes nothing; no later message undoes it); a progress message
// older than the one shown (republished out of order) is dropped.
export function mergeLifecycle(current, next) {
  if (!next) return current ?? null;
  if (!current) return next;
  if (current.final) return current;
  if (!next.final && next.elapsedMs < current.elapsedMs) return current;
  return next;
}

// 0.4 s, 31.9 s, 2 min 5 s, 1 h 4 min; `tenths` false: whole seconds under a minute.
export function formatDuration(ms, tenths = true) {
  const v = Math.max(0, Number.isFinite(ms) ? ms : 0);
  if (v < 59950) return tenths ? `${(v / 1000).toFixed(1)} s` : `${Math.floor(v / 1000)} s`;
  const totalS = Math.round(v / 1000);
  if (totalS < 3600) {
    const s = totalS % 60;
    return s ? `${Math.floor(totalS / 60)} min ${s} s` : `${totalS / 60} min`;
  }
  const totalMin = Math.round(totalS / 60);
  const min = totalMin % 60;
  const h = Math.floor(totalMin / 60);
  if (h >= 48) return `${Math.round(h / 24)} days`;
  return min ? `${h} h ${min} min` : `${h} h`;
}

const CONSOLE = 'Check the instance in the Alibaba Cloud console.';

function pollFailedAdvice(error) {
  const code = error?.code ?? '';
  if (code === 'Forbidden' || code.startsWith('Forbidden.')) {
    return "The gateway's RAM user may not read instance status: allow it swas-open:ListInstanceStatus in RAM " +
      `to see the lifecycle. The stop itself was accepted. ${CONSOLE}`;
  }
  if (code === 'CloudUnreachable') {
    return `The gateway lost its connection to the cloud while following. The stop itself was accepted. ${CONSOLE}`;
  }
  return `The stop itself was accepted, but whether the instance stopped is unknown. ${CONSOLE}`;
}

// What the page shows for a successful stop's lifecycle: `lc` is the kept lifecycle message (or
// null), `quiet` whether LIFECYCLE_QUIET_MS passed without one. Returns
// {state, tone, title, status, message, error, advice, live, stopAgain}: `state` is
// "following", "quiet", "progress" or the final outcome; `tone` ok | bad | warn | progress |
// muted; `live` true while the instance is on its way (the page adds the time elapsed);
// `message` is the agent's own Message and `error` the failing poll's error, both verbatim.
export function describeLifecycle(lc, quiet = false) {
  const base = { status: null, message: '', error: '', advice: '', live: false, stopAgain: false };
  if (!lc) {
    if (quiet) {
      return { ...base, state: 'quiet', tone: 'muted', title: 'No lifecycle report from the gateway',
        advice: `Within ${LIFECYCLE_QUIET_MS / 1000} s of the result the gateway reported nothing about the ` +
          "instance's status: its agent may be older than this page, or not follow stops (follow.enabled). " +
          `${CONSOLE} A report that comes later still shows here.` };
    }
    return { ...base, state: 'following', tone: 'progress', title: "Following the instance's status…", live: false };
  }
  const status = lc.status;
  if (!lc.final) {
    return { ...base, state: 'progress', tone: 'progress', status, title: status ? `${status}…` : 'Following…', live: true };
  }
  const took = formatDuration(lc.elapsedMs);
  const message = lc.message;
  const out = { ...base, state: lc.outcome, status, message };
  switch (lc.outcome) {
    case 'Stopped':
      return { ...out, tone: 'ok', title: `Stopped in ${took}` };
    case 'TimedOut':
      return { ...out, tone: 'warn', title: `Still ${status ?? 'not Stopped'} after ${took}`,
        advice: 'The gateway gave up following it (follow.deadline_s). ' +
          `${CONSOLE} If it stays ${status ?? 'so'}, contact Alibaba Cloud support with the RequestId.` };
    case 'UnexpectedStatus': {
      const again = status === 'Running' || status === 'Starting';
      let advice = `It will not become Stopped by itself. ${CONSOLE}`;
      if (again) {
        advice = 'The stop did not take, or someone started the instance again. Check its events in the console, ' +
          'then stop it again if it should be stopped.';
      } else if (status === 'Disabled') {
        advice = 'The cloud has disabled the instance (for example after an overdue payment or a security lock); ' +
          `it will not stop by itself. ${CONSOLE}`;
      }
      return { ...out, tone: 'bad', title: `Not stopped: the instance is ${status ?? 'in an unexpected state'}`,
        advice, stopAgain: again };
    }
    case 'NotFound':
      return { ...out, tone: 'bad', title: 'The instance is no longer listed',
        advice: `ListInstanceStatus no longer lists it in ${lc.regionId}: it may have been released, or the ` +
          `RegionId is not its region. ${CONSOLE}` };
    case 'PollFailed': {
      const e = lc.error;
      let error = '';
      if (e && e.code) {
        const where = [e.source, e.httpStatus ? `HTTP ${e.httpStatus}` : null].filter(Boolean).join(', ');
        error = `${e.code}${where ? ` (${where})` : ''}${e.message ? `: ${e.message}` : ''}`;
      }
      return { ...out, tone: 'warn', title: 'Status unknown: the gateway could not read it', error,
        advice: pollFailedAdvice(e) };
    }
    case 'NotFollowed':
      return { ...out, tone: 'muted', title: 'Not followed by the gateway',
        advice: 'The gateway was following too many stops at once, or could not record this one. ' +
          `The stop itself was accepted. ${CONSOLE}` };
    default:
      return { ...out, tone: 'warn', title: `Following ended: ${lc.outcome}`, advice: CONSOLE };
  }
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
