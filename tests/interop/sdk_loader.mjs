// Loads the pinned official SDK packages from tests/interop/node_modules, or exits 1 telling the
// user to run `npm ci` (the interop tests fail rather than skip without them). Only this folder's
// node_modules counts, and the installed versions must be the ones package.json pins, so a stray
// node_modules further up or a stale install cannot stand in for the oracle.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

function die(reason) {
  console.error(`FAIL: ${reason}`);
  console.error('      The official Alibaba Cloud SDK packages are needed. Run: npm ci --prefix tests/interop');
  process.exit(1);
}

export function loadSdk(names) {
  const pins = JSON.parse(readFileSync(path.join(here, 'package.json'), 'utf8')).dependencies;
  const nodeModules = path.join(here, 'node_modules');
  if (!existsSync(nodeModules)) die(`${nodeModules} is missing.`);
  for (const [name, want] of Object.entries(pins)) {
    const manifest = path.join(nodeModules, name, 'package.json');
    if (!existsSync(manifest)) die(`${name} is not installed in ${nodeModules}.`);
    const got = JSON.parse(readFileSync(manifest, 'utf8')).version;
    if (got !== want) die(`${name} ${got} is installed, package.json pins ${want}.`);
  }
  const require = createRequire(path.join(here, 'package.json'));
  const out = {};
  for (const name of names) out[name] = require(name);
  return out;
}
