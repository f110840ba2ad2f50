// One way to build (ctest rules.one_way_to_build): CMakePresets.json is the only description of
// the trees, and the scripts use it.
//   - every cmake_minimum_required and the presets' cmakeMinimumRequired name the same version
//     (Debian bookworm's CMake, 3.25);
//   - the `default` configure preset builds into build/, the tree scripts/test, .ci/run, the
//     README and the docs use;
//   - scripts/build configures with `cmake --preset default`, scripts/test its second tree with
//     `cmake --preset asan`, and neither configures any other way (-S, -G, -DCMAKE_BUILD_TYPE).
// Usage: node check_one_build.mjs [REPO_ROOT]. Exit 0 when all hold; 1 naming each breach.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(process.argv[2] || path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..'));
const problems = [];
const read = (rel) => fs.readFileSync(path.join(root, rel), 'utf8');

const presets = JSON.parse(read('CMakePresets.json'));
const want = `${presets.cmakeMinimumRequired.major}.${presets.cmakeMinimumRequired.minor}`;
for (const rel of ['CMakeLists.txt', 'bench/standalone/CMakeLists.txt']) {
  const m = read(rel).match(/cmake_minimum_required\s*\(\s*VERSION\s+(\d+\.\d+)/);
  if (!m) problems.push(`${rel}: no cmake_minimum_required`);
  else if (m[1] !== want) problems.push(`${rel}: cmake_minimum_required ${m[1]}, CMakePresets.json ${want}`);
}

const configure = Object.fromEntries(presets.configurePresets.map((p) => [p.name, p]));
const binaryDir = (name) => {
  for (let p = configure[name]; p; p = configure[p.inherits]) {
    if (p.binaryDir) return p.binaryDir.replace('${presetName}', name);
  }
  return undefined;
};
if (binaryDir('default') !== '${sourceDir}/build') {
  problems.push(`CMakePresets.json: preset default builds into ${binaryDir('default')}, not \${sourceDir}/build`);
}

for (const [rel, preset] of [['scripts/build', 'default'], ['scripts/test', 'asan']]) {
  const lines = read(rel).split('\n');
  if (!configure[preset]) problems.push(`CMakePresets.json: no configure preset ${preset} (${rel} uses it)`);
  if (!lines.some((l) => new RegExp(`^\\s*cmake --preset ${preset}\\b`).test(l))) {
    problems.push(`${rel}: does not configure with cmake --preset ${preset}`);
  }
  lines.forEach((l, i) => {
    const code = l.replace(/#.*$/, '');
    if (/\bcmake\b/.test(code) && /\s-(S|G)\s|-DCMAKE_BUILD_TYPE/.test(code)) {
      problems.push(`${rel}:${i + 1}: configures without the presets: ${l.trim()}`);
    }
  });
}

for (const p of problems) console.log(p);
if (problems.length) process.exit(1);
console.log(`check_one_build: one way to build (CMake ${want}, preset default in build/)`);
