// Builds dist/: the page's own files from src/ plus MQTT.js's browser bundle from node_modules
// (pinned by package-lock.json), so the page needs nothing from the internet.
//
//   npm ci && npm run build        (or: node build.mjs)
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const src = path.join(here, 'src');
const dist = path.join(here, 'dist');
const mqttDir = path.join(here, 'node_modules', 'mqtt');
const mqttBundle = path.join(mqttDir, 'dist', 'mqtt.esm.js');

if (!existsSync(mqttBundle)) {
  console.error(`build.mjs: ${mqttBundle} is missing: run "npm ci" in ${here} first`);
  process.exit(1);
}
const mqttVersion = JSON.parse(readFileSync(path.join(mqttDir, 'package.json'), 'utf8')).version;

rmSync(dist, { recursive: true, force: true });
mkdirSync(path.join(dist, 'vendor'), { recursive: true });
for (const name of readdirSync(src)) copyFileSync(path.join(src, name), path.join(dist, name));
copyFileSync(mqttBundle, path.join(dist, 'vendor', 'mqtt.esm.js'));
copyFileSync(path.join(mqttDir, 'LICENSE.md'), path.join(dist, 'vendor', 'mqtt.LICENSE.md'));
writeFileSync(path.join(dist, 'build.json'), `${JSON.stringify({ mqtt: mqttVersion }, null, 2)}\n`);
console.log(`dashboard built in ${dist} (MQTT.js ${mqttVersion})`);
