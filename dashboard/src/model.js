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
  InvalidParameter: 'A parameter is malformed: RegionId is a-z 0-9 -, ClientToken at most 64 ASCII characters, ' +
    'an InstanceId at most 256 characters (the message names the one).',
  MissingParameter: 'InstanceId and RegionId are both required.',
  Forbidden: "The gateway's RAM user is not allowed swas-open:StopInstance on this instance: grant it in RAM.",
  Throttled: 'The cloud is throttling requests. Wait a little, then stop again.',
  Throttling: 'The cloud is throttling requests. Wait a little, then stop again.',
  RateLimited: "The gateway waited for the cloud's rate limit until the command expired and did not send it. " +
    'Stop again later, or stop several instances in one command.',
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
  'Throttling', 'Throttled', 'RateLimited', 'ServiceUnavailable', 'InternalError']);
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

// ---------------------------------------------------------------------------------------------
// The stop form: one instance, or a pasted list (docs/contract.md, "Many instances in one command")

// One command stops at most this many instances (the agent's and the cloud's InstanceIds bound).
export const MAX_INSTANCES = 100;
// The gateway refuses a command payload over 8192 bytes (InvalidCommand with id null, which the
// page could not match to its command): such a command is never sent.
export const MAX_COMMAND_BYTES = 8192;
// An InstanceId as the page accepts it: 1-256 characters of A-Z a-z 0-9 _ . -, starting with a
// letter or digit (SWAS ids are 32 hex digits). Stricter than the agent (any text without control
// characters), so that a pasted table's other columns, quotes or markup are caught here.
export const INSTANCE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,255}$/;
// Longer pasted text is refused before it is split (100 ids of 256 characters fit 3 times over).
export const MAX_LIST_CHARS = 65536;
// Whitespace (spaces, tabs, newlines) and commas separate the ids of a pasted list.
const SEPARATORS = /[\s,]+/u;

const shown = (token) => (token.length > 40 ? `${token.slice(0, 40)}…` : token);

// The instance ids in `text` (one, or a pasted list), in the order given: {ids} or {ids: [], error}.
// Rules: ids are separated by whitespace or commas (leading, trailing and repeated separators are
// ignored); each must match INSTANCE_ID; 1 to MAX_INSTANCES of them; none twice (the agent
// refuses a list with a repeated id, and a repeat is likely a wrong paste).
export function parseInstanceList(text) {
  const fail = (error) => ({ ids: [], error });
  if (typeof text !== 'string') return fail('InstanceId is required');
  if (text.length > MAX_LIST_CHARS) return fail(`The list is ${text.length} characters long: paste at most ${MAX_INSTANCES} InstanceIds.`);
  const tokens = text.split(SEPARATORS).filter((t) => t !== '');
  if (tokens.length === 0) return fail('InstanceId is required');
  const seen = new Map();  // id -> its position (1-based)
  for (const [i, token] of tokens.entries()) {
    const where = tokens.length > 1 ? ` (item ${i + 1})` : '';
    if (!INSTANCE_ID.test(token)) {
      return fail(`"${shown(token)}"${where} is not an InstanceId: 1-256 characters of A-Z a-z 0-9 _ . - ` +
        '(separate several with spaces, commas or new lines)');
    }
    if (seen.has(token)) return fail(`${shown(token)} is listed twice (items ${seen.get(token)} and ${i + 1})`);
    seen.set(token, i + 1);
  }
  if (tokens.length > MAX_INSTANCES) {
    return fail(`${tokens.length} instances: one command stops at most ${MAX_INSTANCES}. Split the list.`);
  }
  return { ids: tokens, error: null };
}

// Whether a stop is sent as InstanceIds: several instances, or a force stop (the contract allows
// ForceStop only with InstanceIds). One instance without force is sent as InstanceId, as always.
export const usesInstanceIds = ({ instanceIds, force }) => instanceIds.length > 1 || Boolean(force);

// The stop form read: {stop: {gateway, instanceIds, regionId, force}} when it can be sent, else
// {error}. `instances` is the InstanceId field's text (one id or a pasted list).
export function readStopForm({ gateway, instances, regionId, force = false }) {
  if (!GATEWAY_ID.test(gateway ?? '')) return { error: 'Gateway: 1-64 characters of A-Z a-z 0-9 _ . -' };
  const list = parseInstanceList(instances ?? '');
  if (list.error) return { error: list.error };
  if (!REGION_ID.test(regionId ?? '')) return { error: 'RegionId: 1-64 characters of a-z 0-9 - (for example cn-hangzhou)' };
  const stop = { gateway, instanceIds: list.ids, regionId, force: Boolean(force) };
  // As sent, with the longest command id the page makes.
  const bytes = new TextEncoder().encode(buildStopCommand({ ...stop, id: newCommandId(new Date(), 'ffffff') })).length;
  if (bytes > MAX_COMMAND_BYTES) {
    return { error: `A command with these ${list.ids.length} InstanceIds would be ${bytes} bytes; a gateway takes ` +
      `at most ${MAX_COMMAND_BYTES}. Stop fewer instances at once.` };
  }
  return { stop };
}

// An error message for the stop form, or null when it can be sent.
export function validateStop(values) {
  return readStopForm(values).error ?? null;
}

// The command's payload: InstanceId for one instance (exactly as before issue 13), InstanceIds
// (and ForceStop when forced) otherwise.
export function buildStopCommand({ id, instanceIds, regionId, force = false, clientToken }) {
  const cmd = { type: 'command', id, action: 'StopInstance' };
  if (usesInstanceIds({ instanceIds, force })) cmd.InstanceIds = [...instanceIds];
  else cmd.InstanceId = instanceIds[0];
  cmd.RegionId = regionId;
  if (force) cmd.ForceStop = true;
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
    // The instances the result lists (a command with InstanceIds), or null.
    instanceIds: Array.isArray(msg.InstanceIds) && msg.InstanceIds.length <= MAX_INSTANCES
      && msg.InstanceIds.every((v) => isText(v)) ? [...msg.InstanceIds] : null,
    forceStop: typeof msg.ForceStop === 'boolean' ? msg.ForceStop : null,
  };
}

// ---------------------------------------------------------------------------------------------
// Progress messages (docs/contract.md, "The account's rate quota"): the gateway queued the stop
// for the cloud's rate limit. Never a result; shown while the page waits for the result.

// A progress message read for display; null when `text` is not one, or is malformed (wrong types,
// a stage or action that is not a short printable token, an impossible wait).
export function parseProgress(text) {
  const msg = parseObject(text);
  if (!msg || msg.type !== 'progress') return null;
  if (typeof msg.id !== 'string' || msg.id === '' || msg.id.length > 128) return null;
  if (!(typeof msg.stage === 'string' && TOKEN.test(msg.stage))) return null;
  if (msg.action !== undefined && !(typeof msg.action === 'string' && TOKEN.test(msg.action))) return null;
  const wait = msg.waitMs;
  if (wait !== undefined && wait !== null
    && (typeof wait !== 'number' || !Number.isFinite(wait) || wait < 0 || wait > MAX_ELAPSED_MS)) return null;
  if (msg.Message !== undefined && typeof msg.Message !== 'string') return null;
  return {
    id: msg.id,
    stage: msg.stage,
    action: msg.action ?? '',
    waitMs: typeof wait === 'number' ? Math.round(wait) : null,
    message: clip(msg.Message),
  };
}

// What the page shows for progress `p` that came `leftMs` before the command's MQTT expiry
// (COMMAND_EXPIRY_S after it was sent): {title, message, advice}. The result timeout is not
// extended by progress; the advice says when the wait will outlast the expiry.
export function describeProgress(p, leftMs) {
  const about = (ms) => `${Math.max(1, Math.ceil(ms / 1000))} s`;
  if (p.stage !== 'RateLimited') {
    return { title: `Gateway: ${p.stage}${p.waitMs !== null ? ` (about ${about(p.waitMs)})` : ''}`, message: p.message, advice: '' };
  }
  const of = p.action ? ` of ${p.action}` : '';
  // waitMs null: the wait is not known (queued behind other waiting calls, or the cloud is
  // throttling); the gateway's message says which.
  const title = p.waitMs !== null
    ? `Queued for the cloud's rate limit${of}: sent in about ${about(p.waitMs)}`
    : `Queued for the cloud's rate limit${of}`;
  let advice = '';
  if (p.waitMs === null) {
    advice = `If its turn does not come within the command's ${COMMAND_EXPIRY_S} s expiry, the gateway answers ` +
      'RateLimited and does not send it.';
  } else if (p.waitMs > leftMs) {
    advice = `That is after the command's ${COMMAND_EXPIRY_S} s expiry: the gateway will answer RateLimited and not ` +
      'send it. Stop again later, or stop several instances in one command.';
  }
  return { title, message: p.message, advice };
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
// when one came): the same id and region, one of its instances, and the RequestId of its
// successful stop.
export function lifecycleMatches(cmd, lc) {
  if (!cmd || !lc) return false;
  if (lc.id !== cmd.id || !cmd.instanceIds.includes(lc.instanceId) || lc.regionId !== cmd.regionId) return false;
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

// The lifecycles of a command naming several instances, summed up for its history item:
// {tone, title, stopped, total, done}. `lifecycles` maps InstanceId -> kept lifecycle message.
// The tone is the worst of the instances' (bad, warn, progress, muted, ok in that order), so the
// item's border shows trouble as soon as one instance has it.
const TONE_ORDER = ['bad', 'warn', 'progress', 'muted', 'ok'];
export function summarizeLifecycles(instanceIds, lifecycles, quiet = false) {
  let stopped = 0;
  let onTheWay = 0;
  let tone = 'ok';
  for (const id of instanceIds) {
    const lc = lifecycles[id] ?? null;
    const d = describeLifecycle(lc, quiet);
    if (TONE_ORDER.indexOf(d.tone) < TONE_ORDER.indexOf(tone)) tone = d.tone;
    if (lc?.final && lc.outcome === 'Stopped') stopped++;
    else if (!lc?.final) onTheWay++;
  }
  const total = instanceIds.length;
  const notStopped = total - stopped - onTheWay;
  const parts = [`${stopped} of ${total} Stopped`];
  if (onTheWay) parts.push(`${onTheWay} on the way`);
  if (notStopped) parts.push(`${notStopped} not stopped`);
  return { tone, title: parts.join(' · '), stopped, total, done: onTheWay === 0 };
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
