// Rendering: gateways and the command history as DOM nodes. Text from the broker is only ever
// set with textContent, never parsed as HTML.
import {
  COMMAND_EXPIRY_S, describeLifecycle, describeProgress, formatDuration, nextStep, summarizeLifecycles,
} from './model.js';

const COUNTER_LABELS = [
  ['received', 'Recv'], ['succeeded', 'OK'], ['failed', 'Failed'], ['rejected', 'Rej.'], ['in_flight', 'Active'],
];

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) node.append(child);
  }
  return node;
}

const time = (d) => d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
// 2026-11-26T03:00:00Z -> 2026-11-26 03:00Z
const shortStamp = (iso) => iso.replace('T', ' ').replace(/:\d{2}(\.\d+)?Z$/, 'Z');

function stateClass(state) {
  if (state === 'online') return 'pill pill-online';
  if (state === 'offline') return 'pill pill-offline';
  return 'pill pill-idle';
}

function gatewayCard(g, onStop) {
  const counters = COUNTER_LABELS.map(([key, label]) =>
    el('div', {}, el('dt', { text: label, title: key }),
      el('dd', { class: `counter-${key}`, text: key in g.counters ? String(g.counters[key]) : '–' })));
  const meta = [g.version ? `v${g.version}` : null, g.startedAt ? `up since ${shortStamp(g.startedAt)}` : null,
    `status at ${time(g.seenAt)}`].filter(Boolean).join(' · ');
  return el('article', { class: `card gateway is-${g.state}`, 'data-gateway': g.gateway },
    el('div', { class: 'gateway-head' },
      el('span', { class: 'gateway-name', text: g.gateway }),
      el('span', { class: `gateway-state ${stateClass(g.state)}`, text: g.state })),
    el('div', { class: 'gateway-meta', text: meta }),
    el('dl', { class: 'counters' }, counters),
    g.lastError ? el('p', { class: 'last-error', text: `Last error: ${g.lastError}` }) : null,
    el('div', {}, el('button', {
      type: 'button', class: 'secondary small', text: 'Stop an instance…', onclick: () => onStop(g.gateway),
    })));
}

export function renderGateways(gateways, onStop) {
  const list = [...gateways.values()].sort((a, b) => a.gateway.localeCompare(b.gateway));
  document.getElementById('gateways').replaceChildren(...list.map((g) => gatewayCard(g, onStop)));
  document.getElementById('gateways-empty').hidden = list.length > 0;
  const online = list.filter((g) => g.state === 'online').length;
  document.getElementById('gateway-count').textContent = list.length ? `${online} of ${list.length} online` : '';
  document.getElementById('gateway-ids').replaceChildren(...list.map((g) => el('option', { value: g.gateway })));
}

// The confirmation's instance(s): one id as text, several as a numbered list.
export function renderConfirmInstances(node, instanceIds) {
  if (instanceIds.length === 1) {
    node.textContent = instanceIds[0];
    return;
  }
  node.replaceChildren(el('ol', { class: 'confirm-list' }, instanceIds.map((id) => el('li', { text: id }))));
}

const isMulti = (cmd) => cmd.instanceIds.length > 1;

// sending → waiting → ok | failed | no-answer | error
function steps(cmd) {
  const sent = cmd.phase !== 'sending' && cmd.phase !== 'error';
  const answered = cmd.phase === 'ok' || cmd.phase === 'failed';
  let resultClass = '';
  if (answered) resultClass = cmd.phase === 'ok' ? 'done' : 'bad';
  else if (cmd.phase === 'error') resultClass = 'bad';
  let waiting = cmd.phase === 'no-answer' ? 'Still waiting' : 'Waiting';
  if (cmd.progress && !answered) waiting = 'Queued';
  return el('ol', { class: 'steps', 'aria-label': 'progress' },
    el('li', { class: sent ? 'done' : 'active', text: 'Sent' }),
    el('li', { class: answered ? 'done' : (sent ? 'active' : ''), text: waiting }),
    el('li', { class: resultClass, text: 'Result' }));
}

// The gateway's progress while the stop waits for the cloud's rate limit (never the result).
function progressBlock(cmd) {
  const leftMs = COMMAND_EXPIRY_S * 1000 - (cmd.progressAt - cmd.sentAt.getTime());
  const d = describeProgress(cmd.progress, leftMs);
  return el('div', { class: 'progress-note', 'data-progress': cmd.progress.stage },
    el('p', { class: 'progress-title', text: d.title }),
    d.message ? el('p', { class: 'progress-message' }, 'Gateway: ', el('span', { text: d.message })) : null,
    d.advice ? el('p', { class: 'hint progress-advice', text: d.advice }) : null);
}

function instancesLine(cmd) {
  return isMulti(cmd) ? el('p', { class: 'cmd-instances', text: `Instances: ${cmd.instanceIds.join(', ')}` }) : null;
}

function resultBlock(cmd, actions) {
  const r = cmd.result;
  if (cmd.phase === 'ok') {
    return el('div', { class: 'result' },
      el('p', { class: 'result-ok' }, 'Stop accepted · RequestId ', el('code', { class: 'request-id', text: r.requestId })),
      isMulti(cmd) ? instancesBlock(cmd, actions) : lifecycleBlock(cmd, cmd.instanceIds[0], actions));
  }
  if (cmd.phase === 'failed') {
    const where = [r.source, r.httpStatus ? `HTTP ${r.httpStatus}` : null].filter(Boolean).join(', ');
    return el('div', { class: 'result' },
      el('p', { class: 'result-failed' }, el('span', { class: 'result-code', text: r.code || 'Error' }),
        where ? ` (${where})` : ''),
      r.message ? el('p', { class: 'result-message', text: r.message }) : null,
      r.hint ? el('p', { class: 'hint', text: r.hint }) : null,
      r.requestId ? el('p', { class: 'cmd-meta' }, 'RequestId ', el('code', { class: 'request-id', text: r.requestId })) : null,
      instancesLine(cmd),
      nextAction(cmd, actions));
  }
  if (cmd.phase === 'no-answer') {
    const them = isMulti(cmd) ? 'an instance' : 'the instance';
    const text = cmd.progress
      ? 'No result yet: the gateway queued the stop for the cloud\'s rate limit. If its turn does not come within ' +
        `the command's ${COMMAND_EXPIRY_S} s expiry, the gateway answers RateLimited and does not send it. Still listening…`
      : 'No result yet. Is the gateway online? The command expires unstarted after ' +
        `${COMMAND_EXPIRY_S} s; if it started, its result still shows here. Sending it again (the same command id) ` +
        `never stops ${them} twice. Still listening…`;
    return el('div', { class: 'result' },
      cmd.progress ? progressBlock(cmd) : null,
      el('p', { class: 'hint', text }),
      resendButton(cmd, actions));
  }
  if (cmd.phase === 'error') {
    return el('div', { class: 'result' }, el('p', { class: 'result-failed', text: `Not sent: ${cmd.error}` }),
      resendButton(cmd, actions));
  }
  if (cmd.progress) return el('div', { class: 'result' }, progressBlock(cmd));
  return el('p', { class: 'muted result', text: cmd.phase === 'sending' ? 'Sending to the broker…' : 'Waiting for the gateway…' });
}

// An instance's lifecycle after a successful stop (cmd.lifecycles[instanceId]: the kept
// lifecycle message; cmd.lifecycleQuiet: the quiet rule). The time elapsed while it is on its way
// ticks in a part with aria-live off (tickLifecycle), so screen readers announce each new state
// once, not every second.
const lifecycleOf = (cmd, instanceId) => describeLifecycle(cmd.lifecycles[instanceId] ?? null, cmd.lifecycleQuiet);
const elapsedText = (cmd, instanceId, now) => formatDuration(now - cmd.lifecycleBase[instanceId], false);

function lifecycleBlock(cmd, instanceId, actions) {
  const d = lifecycleOf(cmd, instanceId);
  const lc = cmd.lifecycles[instanceId];
  const showStatus = d.status && !d.title.includes(d.status);
  return el('div', { class: `lifecycle tone-${d.tone}`, 'data-lifecycle': d.state, 'data-final': lc?.final },
    el('p', { class: 'lifecycle-state' },
      d.tone === 'progress' ? el('span', { class: 'spinner', 'aria-hidden': 'true' }) : null,
      el('span', { class: 'lifecycle-title', text: d.title }),
      d.live ? ' ' : null,
      d.live ? el('span', { class: 'lifecycle-elapsed', 'aria-live': 'off', text: elapsedText(cmd, instanceId, Date.now()) }) : null),
    showStatus ? el('p', { class: 'lifecycle-status' }, 'Last status: ', el('code', { text: d.status })) : null,
    d.message ? el('p', { class: 'lifecycle-message' }, 'Gateway: ', el('span', { text: d.message })) : null,
    d.error ? el('p', { class: 'lifecycle-error' }, 'Poll error: ', el('span', { text: d.error })) : null,
    d.advice ? el('p', { class: 'hint lifecycle-advice', text: d.advice }) : null,
    d.stopAgain ? el('button', { type: 'button', class: 'secondary small', text: 'Stop again…',
      onclick: () => actions.stopAgain(cmd, isMulti(cmd) ? instanceId : undefined) }) : null);
}

function summaryLine(cmd) {
  const s = summarizeLifecycles(cmd.instanceIds, cmd.lifecycles, cmd.lifecycleQuiet);
  return el('p', { class: `lifecycle-summary tone-${s.tone}`, 'data-stopped': s.stopped, 'data-total': s.total, text: s.title });
}

// Several instances under one command: a summary, then each instance with its own lifecycle.
function instancesBlock(cmd, actions) {
  return el('div', { class: 'instances-block' },
    summaryLine(cmd),
    el('ul', { class: 'instances' }, cmd.instanceIds.map((id) => el('li', { 'data-instance-id': id },
      el('code', { class: 'instance-id', text: id }),
      lifecycleBlock(cmd, id, actions)))));
}

function resendButton(cmd, actions) {
  return el('button', { type: 'button', class: 'secondary small', text: 'Send again', onclick: () => actions.resend(cmd) });
}

function nextAction(cmd, actions) {
  const step = nextStep(cmd.result);
  if (step === 'resend') return resendButton(cmd, actions);
  if (step !== 'stop-again') return null;
  return el('button', { type: 'button', class: 'secondary small', text: 'Stop again…', onclick: () => actions.stopAgain(cmd) });
}

function itemTone(cmd) {
  if (cmd.phase !== 'ok') return null;
  return isMulti(cmd) ? summarizeLifecycles(cmd.instanceIds, cmd.lifecycles, cmd.lifecycleQuiet).tone
    : lifecycleOf(cmd, cmd.instanceIds[0]).tone;
}

function commandItem(cmd, actions) {
  const title = isMulti(cmd) ? `${cmd.instanceIds.length} instances · ${cmd.regionId}` : `${cmd.instanceIds[0]} · ${cmd.regionId}`;
  return el('li', { class: `cmd is-${cmd.phase}`, 'data-command-id': cmd.id, 'data-phase': cmd.phase,
    'data-lifecycle-tone': itemTone(cmd) },
    el('div', { class: 'cmd-head' },
      el('span', { class: 'cmd-title', text: `${title}${cmd.force ? ' · force stop' : ''}` }),
      el('span', { class: 'muted', text: `${cmd.gateway} · ${time(cmd.sentAt)}` })),
    steps(cmd),
    resultBlock(cmd, actions),
    el('div', { class: 'cmd-meta', text: `command ${cmd.id}${cmd.result?.clientToken ? ` · ClientToken ${cmd.result.clientToken}` : ''}` }));
}

// The history is updated in place: an item is rebuilt only when what it shows changed, and
// after a successful stop only the lifecycle parts that changed (and the summary), so the list's
// aria-live region announces what is new rather than the whole history on every message.
const rendered = new WeakMap();  // command -> { key, lifecycleKeys: {instanceId: key}, node }

function itemKey(cmd) {
  return JSON.stringify([cmd.phase, cmd.result, cmd.error ?? null, cmd.progress]);
}

function lifecycleKeys(cmd) {
  const keys = {};
  if (cmd.phase === 'ok') for (const id of cmd.instanceIds) keys[id] = JSON.stringify(lifecycleOf(cmd, id));
  return keys;
}

// The lifecycle part of instance `id` in an item's node.
function lifecycleNode(cmd, node, id) {
  if (!isMulti(cmd)) return node.querySelector('.lifecycle');
  for (const li of node.querySelectorAll('.instances > li')) {
    if (li.dataset.instanceId === id) return li.querySelector('.lifecycle');
  }
  return null;
}

// Replaces only the lifecycle parts that changed (and the summary); false when the item must be
// rebuilt instead.
function patchLifecycles(cmd, known, keys, actions) {
  const changed = Object.keys(keys).filter((id) => known.lifecycleKeys[id] !== keys[id]);
  if (changed.length === 0) return true;
  const blocks = changed.map((id) => lifecycleNode(cmd, known.node, id));
  if (blocks.some((block) => !block)) return false;
  changed.forEach((id, i) => blocks[i].replaceWith(lifecycleBlock(cmd, id, actions)));
  if (isMulti(cmd)) known.node.querySelector('.lifecycle-summary')?.replaceWith(summaryLine(cmd));
  known.node.dataset.lifecycleTone = itemTone(cmd);
  known.lifecycleKeys = keys;
  return true;
}

function itemNode(cmd, actions) {
  const key = itemKey(cmd);
  const keys = lifecycleKeys(cmd);
  const known = rendered.get(cmd);
  if (known && known.key === key && patchLifecycles(cmd, known, keys, actions)) return known.node;
  const node = commandItem(cmd, actions);
  if (known) known.node.replaceWith(node);
  rendered.set(cmd, { key, lifecycleKeys: keys, node });
  return node;
}

export function renderHistory(commands, actions) {
  const list = document.getElementById('history');
  commands.forEach((cmd, i) => {
    const node = itemNode(cmd, actions);
    const at = list.children[i];
    if (at !== node) list.insertBefore(node, at ?? null);
  });
  while (list.children.length > commands.length) list.lastElementChild.remove();
  document.getElementById('history-empty').hidden = commands.length > 0;
}

// Moves the time elapsed of every instance on its way (once a second, from app.js).
export function tickLifecycle(commands, now) {
  for (const cmd of commands) {
    if (cmd.phase !== 'ok') continue;
    const node = rendered.get(cmd)?.node;
    if (!node) continue;
    for (const id of cmd.instanceIds) {
      const lc = cmd.lifecycles[id];
      if (!lc || lc.final) continue;
      const span = lifecycleNode(cmd, node, id)?.querySelector('.lifecycle-elapsed');
      if (span) span.textContent = elapsedText(cmd, id, now);
    }
  }
}

export function setConnection(kind, text) {
  const pill = document.getElementById('connection');
  pill.className = `pill pill-${kind}`;
  pill.textContent = text;
}

export function showError(id, text) {
  const node = document.getElementById(id);
  node.textContent = text ?? '';
  node.hidden = !text;
}
