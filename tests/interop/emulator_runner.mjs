// Runs the project's swas-emulator for the interop tests: test certificates from make-test-certs,
// a config file, port 0, the "listening" line; HTTPS requests to it (admin endpoints included);
// and clean-up (process killed, temp dir removed) however the test ends.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';

const STARTUP_TIMEOUT_MS = 15000;
const REQUEST_TIMEOUT_MS = 10000;

const running = new Set();
process.on('exit', () => { for (const e of running) e.kill(); });

function argValue(name) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : undefined;
}

// The emulator binary and make-test-certs: --emulator / --make-certs, or SWAS_EMULATOR /
// SWAS_MAKE_TEST_CERTS in the environment.
export function toolPaths() {
  return {
    emulatorBin: argValue('--emulator') ?? process.env.SWAS_EMULATOR,
    makeCerts: argValue('--make-certs') ?? process.env.SWAS_MAKE_TEST_CERTS,
  };
}

// The lifetime of a test script that owns `emulator`: an interrupted or overdue run fails, with
// the emulator's output. Returns fatal(msg); check(name, fn), which runs one named check and counts
// it; and conclude(), which prints "NAME: N passed, M failed" (with the emulator's output when a
// check failed) and exits 0 only when none failed.
export function supervise(emulator, name, watchdogMs) {
  const dumpEmulatorOutput = () => {
    const tail = emulator.tail();
    if (tail) console.error(tail);
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => { console.error(`FAIL: interrupted by ${sig}`); process.exit(1); });
  }
  const watchdog = setTimeout(() => {
    console.error(`FAIL: watchdog: ${name} did not finish within ${watchdogMs / 1000} s`);
    dumpEmulatorOutput();
    process.exit(1);
  }, watchdogMs);
  const fatal = (msg) => {
    console.error(`FAIL: ${msg}`);
    dumpEmulatorOutput();
    process.exit(1);
  };
  const results = { passed: 0, failed: 0 };
  const check = async (checkName, fn) => {
    try {
      await fn();
      results.passed++;
      console.log(`ok   ${checkName}`);
    } catch (e) {
      results.failed++;
      console.log(`FAIL ${checkName}\n     ${(e && e.stack) || e}`);
    }
  };
  const conclude = () => {
    if (results.failed > 0) dumpEmulatorOutput();
    console.log(`${name}: ${results.passed} passed, ${results.failed} failed`);
    clearTimeout(watchdog);
    process.exit(results.failed === 0 ? 0 : 1);
  };
  return { fatal, check, conclude };
}

export class EmulatorProcess {
  constructor() {
    this.child = null;
    this.tmpDir = null;
    this.port = 0;
    this.caPem = '';
    this.output = '';  // stdout and stderr, the last 64 KiB
  }

  // Writes `config` (the emulator's JSON config) and starts the emulator; throws on failure.
  async start({ emulatorBin, makeCerts, config, extraArgs = [] }) {
    if (!emulatorBin || !existsSync(emulatorBin)) {
      throw new Error(`swas-emulator binary not found (--emulator / SWAS_EMULATOR): ${emulatorBin}`);
    }
    if (!makeCerts || !existsSync(makeCerts)) {
      throw new Error(`make-test-certs not found (--make-certs / SWAS_MAKE_TEST_CERTS): ${makeCerts}`);
    }
    this.tmpDir = mkdtempSync(path.join(os.tmpdir(), 'swas-interop-'));
    running.add(this);
    const certDir = path.join(this.tmpDir, 'certs');
    const r = spawnSync(makeCerts, [certDir], { encoding: 'utf8', timeout: 30000 });
    if (r.error || r.status !== 0) {
      throw new Error(`make-test-certs failed (status ${r.status}, ${r.error ?? ''}):\n${r.stdout}\n${r.stderr}`);
    }
    const files = { ca: 'ca.pem', cert: 'server.pem', key: 'server.key' };
    for (const [k, f] of Object.entries(files)) {
      files[k] = path.join(certDir, f);
      if (!existsSync(files[k])) throw new Error(`make-test-certs did not produce ${files[k]}`);
    }
    this.caPem = readFileSync(files.ca, 'utf8');
    const configFile = path.join(this.tmpDir, 'emulator.json');
    writeFileSync(configFile, JSON.stringify(config, null, 2));
    const args = ['--config', configFile, '--cert', files.cert, '--key', files.key, '--port', '0',
      '--port-file', path.join(this.tmpDir, 'port'), ...extraArgs];
    this.port = await new Promise((resolve, reject) => {
      const child = spawn(emulatorBin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      this.child = child;
      const timer = setTimeout(() => reject(new Error(`no "listening" line within ${STARTUP_TIMEOUT_MS} ms`)), STARTUP_TIMEOUT_MS);
      let stdout = '';
      child.stdout.setEncoding('utf8');
      child.stderr.setEncoding('utf8');
      child.stdout.on('data', (d) => {
        this.output = (this.output + d).slice(-65536);
        stdout += d;
        const m = /swas-emulator listening on ([0-9.]+|\[[0-9a-f:]+\]|[^\s:]+):(\d+)/.exec(stdout);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[2]));
        }
      });
      child.stderr.on('data', (d) => { this.output = (this.output + d).slice(-65536); });
      child.on('error', (e) => { clearTimeout(timer); reject(e); });
      child.on('exit', (code, sig) => { clearTimeout(timer); reject(new Error(`emulator exited early (${code ?? sig})`)); });
    });
  }

  // SIGTERM, then SIGKILL after 3 s; removes the temp dir.
  async stop() {
    const p = this.child;
    if (p && p.exitCode === null && p.signalCode === null) {
      const exited = new Promise((resolve) => p.once('exit', resolve));
      p.kill('SIGTERM');
      const t = setTimeout(() => p.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    }
    this.kill();
  }

  // Synchronous clean-up for process exit.
  kill() {
    const p = this.child;
    if (p && p.exitCode === null && p.signalCode === null) {
      try { p.kill('SIGKILL'); } catch { /* already gone */ }
    }
    this.child = null;
    if (this.tmpDir) {
      try { rmSync(this.tmpDir, { recursive: true, force: true }); } catch { /* best effort */ }
      this.tmpDir = null;
    }
    running.delete(this);
  }

  tail() {
    return this.output ? `--- emulator output (last 4 KiB) ---\n${this.output.slice(-4096)}\n---` : '';
  }

  // One HTTPS request on its own connection, verified against the test CA.
  request({ method, pathAndQuery, headers = {}, body }) {
    return new Promise((resolve, reject) => {
      const req = https.request({
        host: 'localhost', port: this.port, method, path: pathAndQuery, headers, ca: this.caPem,
        timeout: REQUEST_TIMEOUT_MS, agent: false,
      }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json = null;
          try { json = JSON.parse(text); } catch { /* not JSON */ }
          resolve({ status: res.statusCode, text, json });
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`request timed out after ${REQUEST_TIMEOUT_MS} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  // GET /__emulator/state
  async state() {
    const r = await this.request({ method: 'GET', pathAndQuery: '/__emulator/state' });
    if (r.status !== 200 || !r.json) throw new Error(`admin state: HTTP ${r.status}: ${r.text.slice(0, 300)}`);
    return r.json;
  }
}
