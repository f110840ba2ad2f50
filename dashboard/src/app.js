// The dashboard: one MQTT 5 connection over WebSockets, the gateways' retained status, and stop
// commands with a response topic per page session and correlation data per command.
import mqtt from './vendor/mqtt.esm.js';
import * as model from './model.js';
import { renderConfirmInstances, renderGateways, renderHistory, setConnection, showError, tickLifecycle } from './view.js';

const session = model.randomHex(6);
const state = {
  client: null,
  gateways: new Map(),     // gateway id -> parsed status + seenAt
  commands: [],            // newest first
  byCorrelation: new Map(),
  pending: null,           // the stop waiting for confirmation
};
const $ = (id) => document.getElementById(id);
const storage = { get: (k) => { try { return localStorage.getItem(k) ?? ''; } catch { return ''; } },
  set: (k, v) => { try { localStorage.setItem(k, v); } catch { /* private mode */ } } };

function redrawGateways() { renderGateways(state.gateways, chooseGateway); }
const historyActions = { resend, stopAgain };
function redrawHistory() { renderHistory(state.commands, historyActions); }

// ---------------------------------------------------------------------------------------------
// Broker

function connect(url) {
  if (state.client) state.client.end(true);
  state.gateways.clear();
  redrawGateways();
  showError('broker-error', '');
  setConnection('connecting', 'Connecting…');
  const username = $('broker-username').value;
  const client = mqtt.connect(url, {
    protocolVersion: 5,
    clean: true,
    clientId: `swas-dashboard-${session}`,
    reconnectPeriod: 3000,
    connectTimeout: 10000,
    username: username || undefined,
    password: username ? $('broker-password').value : undefined,
  });
  state.client = client;
  client.on('connect', () => {
    if (client !== state.client) return;
    setConnection('online', 'Connected');
    showError('broker-error', '');
    client.subscribe([model.STATUS_FILTER, model.replyFilter(session)], { qos: 1 }, (err, granted) => {
      const refused = (granted ?? []).filter((g) => g.qos >= 0x80).map((g) => g.topic);
      if (err || refused.length) showError('broker-error', `The broker refused the subscription to ${refused.join(', ') || err.message}`);
    });
  });
  client.on('reconnect', () => { if (client === state.client) setConnection('connecting', 'Reconnecting…'); });
  client.on('offline', () => { if (client === state.client) setConnection('error', 'Broker unreachable'); });
  client.on('error', (err) => { if (client === state.client) showError('broker-error', `Broker: ${err.message}`); });
  client.on('message', (topic, payload, packet) => { if (client === state.client) onMessage(topic, payload, packet); });
}

function onMessage(topic, payload, packet) {
  const text = new TextDecoder().decode(payload);
  if (topic.endsWith(`/replies/${session}`)) {
    onReply(text, packet.properties?.correlationData);
    return;
  }
  const status = model.parseStatus(topic, text);
  if (status) {
    state.gateways.set(status.gateway, { ...status, seenAt: new Date() });
  } else if (text === '' && topic.endsWith('/status')) {
    state.gateways.delete(model.gatewayOfTopic(topic));  // a cleared retained status
  } else {
    return;
  }
  redrawGateways();
}

// A result, a progress or a lifecycle message on this session's reply topic; only those carrying
// the correlation data of a command this page sent, with its id, count. Anything else is ignored.
function onReply(text, correlationData) {
  const correlation = correlationData ? new TextDecoder().decode(correlationData) : '';
  const cmd = state.byCorrelation.get(correlation);
  if (!cmd) return;
  const result = model.parseResult(text);
  if (result) {
    onResult(cmd, result);
    return;
  }
  const progress = model.parseProgress(text);
  if (progress) {
    onProgress(cmd, progress);
    return;
  }
  const lifecycle = model.parseLifecycle(text);
  if (lifecycle && model.lifecycleMatches(cmd, lifecycle)) onLifecycle(cmd, lifecycle);
}

// The gateway queued the stop (the cloud's rate limit): shown until the result comes. It neither
// is the result nor changes the page's result timeout.
function onProgress(cmd, progress) {
  if (progress.id !== cmd.id || cmd.result) return;
  cmd.progress = progress;
  cmd.progressAt = Date.now();
  redrawHistory();
}

function onResult(cmd, result) {
  if (result.id !== cmd.id) return;
  clearTimeout(cmd.timer);
  cmd.result = result;
  cmd.phase = result.ok ? 'ok' : 'failed';
  // A lifecycle message that came before the result must be about this stop.
  for (const [instanceId, lc] of Object.entries(cmd.lifecycles)) {
    if (!model.lifecycleMatches(cmd, lc)) delete cmd.lifecycles[instanceId];
  }
  // The quiet rule (model.LIFECYCLE_QUIET_MS): no lifecycle message in time → say so, keep listening.
  if (result.ok && !allReported(cmd) && !cmd.quietTimer) {
    cmd.quietTimer = setTimeout(() => { cmd.lifecycleQuiet = true; redrawHistory(); }, model.LIFECYCLE_QUIET_MS);
  }
  redrawHistory();
}

const allReported = (cmd) => cmd.instanceIds.every((id) => cmd.lifecycles[id]);

// Each instance of the command is followed on its own: its lifecycle messages carry its InstanceId.
function onLifecycle(cmd, lifecycle) {
  const id = lifecycle.instanceId;
  const kept = model.mergeLifecycle(cmd.lifecycles[id], lifecycle);
  if (kept === cmd.lifecycles[id]) return;
  cmd.lifecycles[id] = kept;
  cmd.lifecycleBase[id] = Date.now() - kept.elapsedMs;  // the page's estimate of when the agent got the command
  if (allReported(cmd)) clearTimeout(cmd.quietTimer);
  redrawHistory();
}

// ---------------------------------------------------------------------------------------------
// Stopping an instance: form → confirmation → publish → result

// A new command for the same instances (or the one `instanceId` of them), through the form and
// its confirmation.
function stopAgain(cmd, instanceId) {
  $('stop-gateway').value = cmd.gateway;
  $('stop-instance').value = instanceId ?? cmd.instanceIds.join('\n');
  $('stop-force').checked = cmd.force;
  $('stop-region').value = cmd.regionId;
  showInstanceCount();
  $('stop-form').scrollIntoView({ behavior: 'smooth', block: 'start' });
  $('stop-review').focus();
}

function chooseGateway(gateway) {
  $('stop-gateway').value = gateway;
  $('stop-instance').focus();
  $('stop-form').scrollIntoView({ behavior: 'smooth', block: 'start' });
}

function formValues() {
  return {
    gateway: $('stop-gateway').value.trim(),
    instances: $('stop-instance').value,
    regionId: $('stop-region').value.trim(),
    force: $('stop-force').checked,
  };
}

// Under the InstanceId field: how many instances a pasted list holds. The field grows with the
// lines of a pasted list, up to 8 (then it scrolls).
function showInstanceCount() {
  const field = $('stop-instance');
  const { ids } = model.parseInstanceList(field.value);
  $('stop-count').textContent = ids.length > 1 ? `${ids.length} instances` : '';
  field.rows = Math.min(8, Math.max(1, field.value.split('\n').length));
}

// One confirmation for the whole command, naming how many instances and where.
function review(event) {
  event.preventDefault();
  const { stop, error } = model.readStopForm(formValues());
  showError('stop-error', error);
  if (error) return;
  state.pending = stop;
  const n = stop.instanceIds.length;
  $('confirm-title').textContent = n === 1 ? 'Stop this instance?' : `Stop ${n} instances in ${stop.regionId}?`;
  $('confirm-instance-label').textContent = n === 1 ? 'Instance' : `Instances (${n})`;
  renderConfirmInstances($('confirm-instance'), stop.instanceIds);
  $('confirm-region').textContent = stop.regionId;
  $('confirm-gateway').textContent = stop.gateway;
  $('confirm-force-row').hidden = !stop.force;
  $('confirm-stop').textContent = n === 1 ? 'Stop it' : `Stop ${n} instances`;
  const known = state.gateways.get(stop.gateway);
  let warning = '';
  if (!known) warning = `No status from ${stop.gateway} yet: check the gateway id.`;
  else if (known.state !== 'online') warning = `${stop.gateway} is ${known.state}: it will not receive this command until it reconnects, if ever.`;
  showError('confirm-warning', warning);
  $('confirm').hidden = false;
  $('stop-review').disabled = true;
  $('confirm-stop').focus();
}

function closeConfirmation() {
  state.pending = null;
  $('confirm').hidden = true;
  $('stop-review').disabled = false;
}

function confirmStop() {
  const values = state.pending;
  closeConfirmation();
  if (!values) return;
  if (!state.client?.connected) {
    showError('stop-error', 'Not connected to the broker.');
    return;
  }
  const cmd = { ...values, id: model.newCommandId(), phase: 'sending', sentAt: new Date(), result: null, timer: null,
    progress: null, progressAt: 0, lifecycles: {}, lifecycleBase: {}, lifecycleQuiet: false, quietTimer: null };
  state.commands.unshift(cmd);
  storage.set('swas.region', values.regionId);
  publish(cmd);
}

function resend(cmd) {
  if (!state.client?.connected) {
    showError('stop-error', 'Not connected to the broker.');
    return;
  }
  cmd.phase = 'sending';
  cmd.result = null;
  cmd.progress = null;
  publish(cmd);
}

// Publishes `cmd` (QoS 1) with a fresh correlation; the same command id, so the agent never
// stops an instance twice for it.
function publish(cmd) {
  const correlation = model.randomHex(16);
  state.byCorrelation.set(correlation, cmd);
  clearTimeout(cmd.timer);
  cmd.timer = setTimeout(() => {
    if (cmd.phase === 'waiting' || cmd.phase === 'sending') { cmd.phase = 'no-answer'; redrawHistory(); }
  }, model.RESULT_TIMEOUT_MS);
  const payload = model.buildStopCommand(cmd);
  const properties = {
    responseTopic: model.replyTopic(cmd.gateway, session),
    correlationData: correlation,
    messageExpiryInterval: model.COMMAND_EXPIRY_S,
  };
  state.client.publish(model.commandTopic(cmd.gateway), payload, { qos: 1, properties }, (err) => {
    if (err) {
      clearTimeout(cmd.timer);
      cmd.phase = 'error';
      cmd.error = err.message;
    } else if (cmd.phase === 'sending') {
      cmd.phase = 'waiting';
    }
    redrawHistory();
  });
  redrawHistory();
}

// ---------------------------------------------------------------------------------------------

function start() {
  const url = model.defaultBrokerUrl(window.location, storage.get('swas.broker'));
  $('broker-url').value = url;
  $('stop-region').value = storage.get('swas.region');
  $('reply-filter').textContent = model.replyFilter(session);
  $('broker-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const next = $('broker-url').value.trim();
    if (!model.isBrokerUrl(next)) {
      showError('broker-error', 'Use a ws:// or wss:// URL, for example ws://broker.example:9001/');
      return;
    }
    storage.set('swas.broker', next);
    connect(next);
  });
  $('stop-form').addEventListener('submit', review);
  $('stop-instance').addEventListener('input', showInstanceCount);
  $('confirm-stop').addEventListener('click', confirmStop);
  $('confirm-cancel').addEventListener('click', closeConfirmation);
  redrawGateways();
  redrawHistory();
  setInterval(() => tickLifecycle(state.commands, Date.now()), 1000);
  if (model.isBrokerUrl(url)) connect(url);
}

start();
