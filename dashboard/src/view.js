// Rendering: gateways and the command history as DOM nodes. Text from the broker is only ever
// set with textContent, never parsed as HTML.
import { COMMAND_EXPIRY_S, describeLifecycle, formatDuration, nextStep } from './model.js';

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

// sending → waiting → ok | failed | no-answer | error
function steps(cmd) {
  const sent = cmd.phase !== 'sending' && cmd.phase !== 'error';
  const answered = cmd.phase === 'ok' || cmd.phase === 'failed';
  let resultClass = '';
  if (answered) resultClass = cmd.phase === 'ok' ? 'done' : 'bad';
  else if (cmd.phase === 'error') resultClass = 'bad';
  return el('ol', { class: 'steps', 'aria-label': 'progress' },
    el('li', { class: sent ? 'done' : 'active', text: 'Sent' }),
    el('li', { class: answered ? 'done' : (sent ? 'active' : ''), text: cmd.phase === 'no-answer' ? 'Still waiting' : 'Waiting' }),
    el('li', { class: resultClass, text: 'Result' }));
}

function resultBlock(cmd, actions) {
  const r = cmd.result;
  if (cmd.phase === 'ok') {
    return el('div', { class: 'result' },
      el('p', { class: 'result-ok' }, 'Stop accepted · RequestId ', el('code', { class: 'request-id', text: r.requestId })),
      lifecycleBlock(cmd, actions));
  }
  if (cmd.phase === 'failed') {
    const where = [r.source, r.httpStatus ? `HTTP ${r.httpStatus}` : null].filter(Boolean).join(', ');
    return el('div', { class: 'result' },
      el('p', { class: 'result-failed' }, el('span', { class: 'result-code', text: r.code || 'Error' }),
        where ? ` (${where})` : ''),
      r.message ? el('p', { class: 'result-message', text: r.message }) : null,
      r.hint ? el('p', { class: 'hint', text: r.hint }) : null,
      r.requestId ? el('p', { class: 'cmd-meta' }, 'RequestId ', el('code', { class: 'request-id', text: r.requestId })) : null,
      nextAction(cmd, actions));
  }
  if (cmd.phase === 'no-answer') {
    return el('div', { class: 'result' },
      el('p', { class: 'hint', text: 'No result yet. Is the gateway online? The command expires unstarted after ' +
        `${COMMAND_EXPIRY_S} s; if it started, its result still shows here. Sending it again (the same command id) ` +
        'never stops the instance twice. Still listening…' }),
      resendButton(cmd, actions));
  }
  if (cmd.phase === 'error') {
    return el('div', { class: 'result' }, el('p', { class: 'result-failed', text: `Not sent: ${cmd.error}` }),
      resendButton(cmd, actions));
  }
  return el('p', { class: 'muted result', text: cmd.phase === 'sending' ? 'Sending to the broker…' : 'Waiting for the gateway…' });
}

// The instance's lifecycle after a successful stop (cmd.lifecycle: the kept lifecycle message;
// cmd.lifecycleQuiet: none came in time). The time elapsed while it is on its way ticks in a
// part with aria-live off (tickLifecycle), so screen readers announce each new state once, not
// every second.
const lifecycleOf = (cmd) => describeLifecycle(cmd.lifecycle, cmd.lifecycleQuiet);
const elapsedText = (cmd, now) => formatDuration(now - cmd.lifecycleBase, false);

function lifecycleBlock(cmd, actions) {
  const d = lifecycleOf(cmd);
  const showStatus = d.status && !d.title.includes(d.status);
  return el('div', { class: `lifecycle tone-${d.tone}`, 'data-lifecycle': d.state, 'data-final': cmd.lifecycle?.final },
    el('p', { class: 'lifecycle-state' },
      d.tone === 'progress' ? el('span', { class: 'spinner', 'aria-hidden': 'true' }) : null,
      el('span', { class: 'lifecycle-title', text: d.title }),
      d.live ? ' ' : null,
      d.live ? el('span', { class: 'lifecycle-elapsed', 'aria-live': 'off', text: elapsedText(cmd, Date.now()) }) : null),
    showStatus ? el('p', { class: 'lifecycle-status' }, 'Last status: ', el('code', { text: d.status })) : null,
    d.message ? el('p', { class: 'lifecycle-message' }, 'Gateway: ', el('span', { text: d.message })) : null,
    d.error ? el('p', { class: 'lifecycle-error' }, 'Poll error: ', el('span', { text: d.error })) : null,
    d.advice ? el('p', { class: 'hint lifecycle-advice', text: d.advice }) : null,
    d.stopAgain ? el('button', { type: 'button', class: 'secondary small', text: 'Stop again…', onclick: () => actions.stopAgain(cmd) }) : null);
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

function commandItem(cmd, actions) {
  return el('li', { class: `cmd is-${cmd.phase}`, 'data-command-id': cmd.id, 'data-phase': cmd.phase,
    'data-lifecycle-tone': cmd.phase === 'ok' ? lifecycleOf(cmd).tone : null },
    el('div', { class: 'cmd-head' },
      el('span', { class: 'cmd-title', text: `${cmd.instanceId} · ${cmd.regionId}` }),
      el('span', { class: 'muted', text: `${cmd.gateway} · ${time(cmd.sentAt)}` })),
    steps(cmd),
    resultBlock(cmd, actions),
    el('div', { class: 'cmd-meta', text: `command ${cmd.id}${cmd.result?.clientToken ? ` · ClientToken ${cmd.result.clientToken}` : ''}` }));
}

// The history is updated in place: an item is rebuilt only when what it shows changed, and
// after a successful stop only its lifecycle part, so the list's aria-live region announces
// what is new rather than the whole history on every message.
const rendered = new WeakMap();  // command -> { key, lifecycleKey, node }

function itemKey(cmd) {
  return JSON.stringify([cmd.phase, cmd.result, cmd.error ?? null]);
}

function itemNode(cmd, actions) {
  const key = itemKey(cmd);
  const lifecycleKey = cmd.phase === 'ok' ? JSON.stringify(lifecycleOf(cmd)) : '';
  const known = rendered.get(cmd);
  if (known && known.key === key && known.lifecycleKey === lifecycleKey) return known.node;
  if (known && known.key === key) {
    const block = known.node.querySelector('.lifecycle');
    if (block) {
      block.replaceWith(lifecycleBlock(cmd, actions));
      known.node.dataset.lifecycleTone = lifecycleOf(cmd).tone;
      known.lifecycleKey = lifecycleKey;
      return known.node;
    }
  }
  const node = commandItem(cmd, actions);
  if (known) known.node.replaceWith(node);
  rendered.set(cmd, { key, lifecycleKey, node });
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
    if (cmd.phase !== 'ok' || !cmd.lifecycle || cmd.lifecycle.final) continue;
    const node = rendered.get(cmd)?.node.querySelector('.lifecycle-elapsed');
    if (node) node.textContent = elapsedText(cmd, now);
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
