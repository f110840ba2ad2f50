// ctest fixture (browser.npm_setup): installs the npm packages of the dashboard and of this test
// from their lock files, only when a lock file changed since the last install, then builds the
// dashboard into dashboard/dist. Needs the npm registry only when a lock file changed.
//
//   node setup.mjs --dashboard DIR --tests DIR
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import process from 'node:process';

const NPM_TIMEOUT_MS = 300000;
const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? path.resolve(process.argv[i + 1]) : undefined;
};

function fail(msg) {
  console.error(`FAIL: ${msg}`);
  process.exit(1);
}

function run(command, args, cwd) {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: NPM_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error || r.status !== 0) {
    fail(`${command} ${args.join(' ')} in ${cwd} failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stdout}\n${r.stderr}`);
  }
  return r.stdout;
}

// npm ci when package-lock.json differs from the one last installed (its SHA-256 is kept in
// node_modules/.swas-lock-sum, as scripts/test does for tests/interop).
function install(dir) {
  const lock = path.join(dir, 'package-lock.json');
  if (!existsSync(lock)) fail(`${lock} is missing`);
  const sum = createHash('sha256').update(readFileSync(lock)).digest('hex');
  const marker = path.join(dir, 'node_modules', '.swas-lock-sum');
  if (existsSync(marker) && readFileSync(marker, 'utf8').trim() === sum) {
    console.log(`${dir}: node_modules matches package-lock.json`);
    return;
  }
  console.log(`${dir}: npm ci`);
  run('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], dir);
  writeFileSync(marker, `${sum}\n`);
}

const dashboard = arg('--dashboard');
const tests = arg('--tests');
if (!dashboard || !tests) fail('usage: node setup.mjs --dashboard DIR --tests DIR');
install(dashboard);
install(tests);
process.stdout.write(run(process.execPath, [path.join(dashboard, 'build.mjs')], dashboard));
