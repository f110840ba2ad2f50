// Child processes for the browser test: mosquitto (TCP + WebSockets), the SWAS emulator and
// swas-agent, each on free loopback ports, each killed (SIGKILL) when the test process exits.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import process from 'node:process';

const children = new Set();

export function killAll() {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try { child.kill('SIGKILL'); } catch { /* already gone */ }
    }
  }
  children.clear();
}
process.on('exit', killAll);

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// A started child whose output (stdout + stderr, last 64 KiB) is kept for diagnostics.
export class Child {
  constructor(name, command, args, options = {}) {
    this.name = name;
    this.output = '';
    this.proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    children.add(this.proc);
    this.exited = new Promise((resolve) => {
      this.proc.once('exit', (code, signal) => resolve(code ?? `signal ${signal}`));
      this.proc.once('error', (e) => { this.output += `\nspawn error: ${e.message}`; resolve(`spawn error ${e.code}`); });
    });
    for (const stream of [this.proc.stdout, this.proc.stderr]) {
      stream.setEncoding('utf8');
      stream.on('data', (d) => { this.output = (this.output + d).slice(-65536); });
    }
  }

  running() { return this.proc.exitCode === null && this.proc.signalCode === null; }

  // Resolves when `pattern` appears in the output; rejects on timeout or exit.
  async waitFor(pattern, ms) {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (pattern.test(this.output)) return this.output.match(pattern);
      if (!this.running()) throw new Error(`${this.name} exited before printing ${pattern}:\n${this.tail()}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`${this.name} did not print ${pattern} within ${ms} ms:\n${this.tail()}`);
  }

  async kill(signal = 'SIGTERM', graceMs = 3000) {
    if (!this.running()) return this.exited;
    this.proc.kill(signal);
    const timer = setTimeout(() => { if (this.running()) this.proc.kill('SIGKILL'); }, graceMs);
    const status = await this.exited;
    clearTimeout(timer);
    return status;
  }

  tail(bytes = 4096) { return `--- ${this.name} (last ${bytes} bytes) ---\n${this.output.slice(-bytes)}\n---`; }
}

export function makeCerts(makeCertsBin, dir) {
  const r = spawnSync(makeCertsBin, [dir], { encoding: 'utf8', timeout: 30000 });
  if (r.error || r.status !== 0) throw new Error(`make-test-certs failed (${r.status} ${r.error ?? ''}): ${r.stderr}`);
  return { ca: path.join(dir, 'ca.pem'), cert: path.join(dir, 'server.pem'), key: path.join(dir, 'server.key') };
}

// mosquitto with a plain listener and a WebSockets listener (mosquitto 2.0.11 needs
// socket_domain ipv4 on it, and an ordinary listener in the same config).
export async function startMosquitto(bin, dir) {
  let lastError = null;
  for (let attempt = 0; attempt < 5; attempt++) {
    const tcpPort = await freePort();
    const wsPort = await freePort();
    const conf = path.join(dir, `mosquitto-${attempt}.conf`);
    writeFileSync(conf, [`listener ${tcpPort} 127.0.0.1`, `listener ${wsPort} 127.0.0.1`, 'protocol websockets',
      'socket_domain ipv4', 'allow_anonymous true', 'set_tcp_nodelay true', 'persistence false', ''].join('\n'));
    const child = new Child('mosquitto', bin, ['-c', conf]);
    try {
      await child.waitFor(/mosquitto version \S+ running/, 5000);
      return { child, tcpPort, wsPort, uri: `tcp://127.0.0.1:${tcpPort}` };
    } catch (e) {
      lastError = e;
      await child.kill('SIGKILL');
    }
  }
  throw lastError;
}

export async function startEmulator(bin, dir, certs, { accessKeyId, accessKeySecret, instances }) {
  const config = path.join(dir, 'emulator.json');
  writeFileSync(config, JSON.stringify({
    credentials: [{ access_key_id: accessKeyId, access_key_secret: accessKeySecret }],
    instances, stop_delay_ms: 300,
  }));
  const child = new Child('swas-emulator', bin, ['--config', config, '--cert', certs.cert, '--key', certs.key,
    '--port', '0', '--port-file', path.join(dir, 'emulator.port'), '--log-requests']);
  const m = await child.waitFor(/swas-emulator listening on \S+:(\d+)/, 10000);
  return { child, port: Number(m[1]), endpoint: `https://localhost:${m[1]}` };
}

// swas-agent named `name` (its config, state directory and log name follow it); `follow` is the
// config's follow section and `quota` its cloud.quota, when given.
export async function startAgent(bin, dir, {
  gatewayId, mqttUri, endpoint, caFile, accessKeyId, accessKeySecret, name = 'agent', follow, quota,
}) {
  const credentials = path.join(dir, 'credentials.json');
  writeFileSync(credentials, JSON.stringify({ access_key_id: accessKeyId, access_key_secret: accessKeySecret }),
    { mode: 0o600 });
  const stateDir = path.join(dir, name === 'agent' ? 'state' : `${name}-state`);
  mkdirSync(stateDir, { mode: 0o700, recursive: true });
  const config = path.join(dir, `${name}.json`);
  writeFileSync(config, JSON.stringify({
    gateway_id: gatewayId,
    mqtt: { uri: mqttUri, keepalive_s: 5 },
    cloud: { endpoint, ca_file: caFile, timeout_ms: 5000, ...(quota ? { quota } : {}) },
    credentials_file: credentials,
    state_dir: stateDir,
    ...(follow ? { follow } : {}),
  }));
  const child = new Child(name === 'agent' ? 'swas-agent' : `swas-agent (${name})`, bin,
    ['--config', config, '--log-level', 'info']);
  await child.waitFor(/subscribed to /, 15000);
  return { child };
}
