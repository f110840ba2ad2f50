// Every relative link and every repository path the project's text names must exist (ctest
// rules.repo_paths): a doc or a comment that sends the reader to a file that was renamed, never
// written or lives outside the repository is a broken promise.
//
// What is checked:
//   - in every Markdown file: the targets of [text](target) and ![alt](target) that are not URLs
//     or in-page anchors, relative to the file (the #anchor is not checked);
//   - in the Markdown files and the comments of the sources (agent/, platform/, firmware/, tools/,
//     tests/, scripts/, cmake/, bench/, .ci/, the root CMake files): every word that starts with
//     one of the repository's top folders (a path from the root, as in `agent/limits.hpp`,
//     `./scripts/test`, `tests/unit/`) and every word starting with ../ (from the file or from the
//     root; it must not leave the repository unless the line says "outside this repository");
//   - in the code of the sources, outside comments: the same words when they name a file (a dot
//     in the last part, as in a message "see docs/contract.md") or start with ./ or ../, so that
//     MQTT topics such as "bench/replies/x" are not taken for paths.
// A path to a module without its extension (platform/http_response_reader) is found when a
// file of it is; a Markdown file named without a folder (README.md) must exist somewhere.
// Not checked, so that it stays quiet on what is no path of ours: words with a wildcard or
// placeholder (*, <, {, $, …) or continuing another path (build/agent/..., https://.../tests/...),
// fenced code blocks in Markdown (commands and output), what a .gitignore names (node_modules/,
// dashboard/dist/), fuzz corpora, lock files, and tests/rules/ (planted breaches).
//
// Usage: node check_repo_paths.mjs [REPO_ROOT]
//        node check_repo_paths.mjs --self-test   (plants broken links and paths in a scratch
//                                                 tree; fails unless each is reported)
// Exit 0 when everything named exists; 1 listing FILE:LINE: what is missing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SELF = fileURLToPath(import.meta.url);
const TOP = ['agent', 'platform', 'firmware', 'tools', 'tests', 'docs', 'scripts', 'cmake', 'bench',
  'dashboard', '.ci'];
const SOURCE_DIRS = ['agent', 'platform', 'firmware', 'tools', 'tests', 'scripts', 'cmake', 'bench', '.ci'];
const ROOT_FILES = ['CMakeLists.txt', 'CMakePresets.json'];
const SKIP_DIRS = new Set(['node_modules', '.git', 'corpus', 'regressions', 'images']);
const SKIP_FILES = new Set(['package-lock.json']);
const SLASH_COMMENTS = /\.(cpp|hpp|h|c|mjs|js)$/;
const NO_COMMENTS = /\.(json|example)$/;
const TEXT_EXT = /\.(cpp|hpp|h|c|cmake|txt|mjs|js|json|sh|md|service|init|example)$/;

const tops = TOP.map((t) => t.replace('.', '\\.')).join('|');
// A word starting with a top folder (perhaps after ./) or with ../, not continuing another word.
const PATH_RE = new RegExp(`(?<![\\w.\\/~$@%-])((?:\\.\\/)?(?:${tops})\\/[\\w.\\/+-]*|(?:\\.\\.\\/)+\\w[\\w.\\/+-]*)`, 'g');
// A Markdown file named alone (signature-vectors.md): some file of the repository has that name.
const MD_NAME_RE = /(?<![\w.\/~$@%-])([\w-]+\.md)(?![\w\/-])/g;
const LINK_RE = /!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g;
const PLACEHOLDER = /^[*<>{}$…]/;
const SAYS_OUTSIDE = /outside (this|the) repository/;

function walk(dir, out, top = true) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      // Build trees (build/, build-asan/, ...) sit at the top; firmware/build-images is a script.
      if (!SKIP_DIRS.has(entry.name) && !(top && entry.name.startsWith('build'))) walk(full, out, false);
    } else if (entry.isFile() && !SKIP_FILES.has(entry.name)) {
      out.push(full);
    }
  }
  return out;
}

function isText(file) {
  if (TEXT_EXT.test(file) || path.basename(file) === 'Makefile') return true;
  if (path.extname(file) !== '') return false;
  // Scripts without an extension: a shebang.
  const fd = fs.openSync(file, 'r');
  const head = Buffer.alloc(2);
  fs.readSync(fd, head, 0, 2, 0);
  fs.closeSync(fd);
  return head.toString() === '#!';
}

function filesToCheck(root) {
  const files = [];
  for (const f of fs.readdirSync(root)) {
    if (f.endsWith('.md') || ROOT_FILES.includes(f)) files.push(path.join(root, f));
  }
  for (const d of TOP) {
    const dir = path.join(root, d);
    if (!fs.existsSync(dir)) continue;
    const all = walk(dir, [], false);
    files.push(...all.filter((f) => f.endsWith('.md')));
    if (SOURCE_DIRS.includes(d)) files.push(...all.filter(isText));
  }
  // tests/rules/ holds the rule checks, whose examples and planted breaches name missing files.
  const rules = path.join(root, 'tests', 'rules') + path.sep;
  return [...new Set(files)].filter((f) => f !== SELF && !f.startsWith(rules)).sort();
}

// What the .gitignore files name without a wildcard: generated, never in a clean checkout.
function ignoredPaths(root) {
  const rules = [];
  for (const dir of [root, ...TOP.map((t) => path.join(root, t))]) {
    const file = path.join(dir, '.gitignore');
    if (!fs.existsSync(file)) continue;
    const base = path.relative(root, dir);
    for (let line of fs.readFileSync(file, 'utf8').split('\n')) {
      line = line.trim().replace(/\/$/, '');
      if (!line || line.startsWith('#') || /[*?[!]/.test(line)) continue;
      rules.push(line.startsWith('/') ? { at: path.join(base, line.slice(1)) } : { base, name: line });
    }
  }
  return (word) => rules.some((r) => {
    if (r.at) return word === r.at || word.startsWith(`${r.at}/`);
    const inside = r.base ? word.startsWith(`${r.base}/`) : true;
    return inside && word.split('/').includes(r.name);
  });
}

// The comment part and the code part of a source line; `state.block` carries /* ... */.
function splitComment(file, line, state) {
  if (file.endsWith('.md')) return { comment: line, code: '' };
  if (NO_COMMENTS.test(file)) return { comment: '', code: line };
  if (!SLASH_COMMENTS.test(file)) {
    const hash = line.search(/(^|\s)#/);
    return hash < 0 ? { comment: '', code: line } : { comment: line.slice(hash), code: line.slice(0, hash) };
  }
  let comment = '', code = '', rest = line;
  while (rest) {
    if (state.block) {
      const close = rest.indexOf('*/');
      comment += close < 0 ? rest : rest.slice(0, close);
      if (close < 0) break;
      state.block = false;
      rest = rest.slice(close + 2);
      continue;
    }
    const lineComment = rest.search(/(?<!:)\/\//), block = rest.indexOf('/*');
    if (lineComment >= 0 && (block < 0 || lineComment < block)) {
      code += rest.slice(0, lineComment);
      comment += rest.slice(lineComment);
      break;
    }
    if (block < 0) {
      code += rest;
      break;
    }
    code += rest.slice(0, block);
    state.block = true;
    rest = rest.slice(block + 2);
  }
  return { comment, code };
}

function trimWord(word) {
  // Sentence punctuation after a path, and a :LINE suffix, are not part of it.
  return word.replace(/:\d+$/, '').replace(/[.,:;)'"`-]+$/, '');
}

function exists(full) {
  if (fs.existsSync(full)) return true;
  // A module named without its extension: platform/http_response_reader.
  const dir = path.dirname(full), stem = path.basename(full);
  return fs.existsSync(dir) && fs.readdirSync(dir).some((f) => f.startsWith(`${stem}.`));
}

function checkWords(text, onlyFiles, ctx) {
  for (const m of text.matchAll(MD_NAME_RE)) {
    if (!ctx.markdownNames.has(m[1])) ctx.problems.push(`${ctx.where}: ${m[1]}: no file of that name`);
  }
  for (const m of text.matchAll(PATH_RE)) {
    if (PLACEHOLDER.test(text.slice(m.index + m[0].length)) || /[*<>{}$…]/.test(m[1])) continue;
    const word = trimWord(m[1]);
    const relative = word.startsWith('../');
    const last = word.split('/').pop();
    if (onlyFiles && !relative && !word.startsWith('./') && !/.\.\w+$/.test(last)) continue;
    if (!relative) {
      const full = path.join(ctx.root, word);
      if (!ctx.ignored(path.relative(ctx.root, full)) && !exists(full))
        ctx.problems.push(`${ctx.where}: ${word}: no such file or folder`);
      continue;
    }
    // ../ from the file (an import, a link) or from the root (a command run there): either will do.
    const found = [path.dirname(ctx.file), ctx.root].map((from) => path.resolve(from, word))
      .some((full) => full.startsWith(ctx.root + path.sep) && exists(full));
    if (!found && !SAYS_OUTSIDE.test(ctx.line))
      ctx.problems.push(`${ctx.where}: ${word}: not in the repository`);
  }
}

export function check(root) {
  root = path.resolve(root);
  const problems = [];
  const ignored = ignoredPaths(root);
  const markdownNames = new Set(walk(root, []).filter((f) => f.endsWith('.md')).map((f) => path.basename(f)));
  for (const file of filesToCheck(root)) {
    const rel = path.relative(root, file);
    const markdown = file.endsWith('.md');
    const state = { block: false };
    let fenced = false;
    fs.readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
      if (markdown && /^\s*(```|~~~)/.test(line)) {
        fenced = !fenced;
        return;
      }
      if (fenced) return;
      const ctx = { root, file, line, where: `${rel}:${i + 1}`, problems, ignored, markdownNames };
      if (markdown) {
        for (const m of line.matchAll(LINK_RE)) {
          const target = m[1].replace(/^<|>$/g, '');
          if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#')) continue;
          const filePart = decodeURIComponent(target.split('#')[0].split('?')[0]);
          if (filePart === '') continue;
          const resolved = path.resolve(path.dirname(file), filePart);
          if (!resolved.startsWith(root + path.sep)) problems.push(`${ctx.where}: link to ${target}: outside the repository`);
          else if (!fs.existsSync(resolved)) problems.push(`${ctx.where}: link to ${target}: no such file`);
        }
      }
      // A link's target was checked above, relative to the file; its text is checked as words.
      const text = markdown ? line.replace(LINK_RE, (link) => link.replace(/\([^)]*\)$/, '')) : line;
      const { comment, code } = splitComment(file, text, state);
      checkWords(comment, false, ctx);
      checkWords(code, true, ctx);
    });
  }
  return problems;
}

function selfTest() {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'repo-paths-'));
  const write = (file, text) => {
    fs.mkdirSync(path.dirname(path.join(scratch, file)), { recursive: true });
    fs.writeFileSync(path.join(scratch, file), `${text}\n`);
  };
  try {
    // What must pass: real paths in every form, and what is no path of ours.
    write('.gitignore', 'node_modules/');
    write('README.md', '[docs](docs/real.md)');
    write('agent/real.cpp', '// see docs/real.md and platform/reader (a module)\nconst char* topic = "bench/replies/x";');
    write('platform/reader.hpp', '/* agent/real.cpp,\n   agent/ */');
    write('scripts/run', '#!/bin/sh\n# tests/node_modules/x is generated\n./scripts/run "$@"');
    write('docs/real.md', ['# Real, next to real.md and README.md', '[ok](../agent/real.cpp), [anchor](#real), [web](https://example.com/tests/x)',
      '`agent/real.cpp:12`, ./agent/real.cpp, agent/, `agent/*.cpp`, `docs/<name>.md`, build/agent/x',
      '`../elsewhere/tool` (outside this repository)', '```', 'agent/not-checked-in-a-code-block.cpp', '```'].join('\n'));
    const clean = check(scratch);
    if (clean.length !== 0) throw new Error(`self-test: a clean tree was reported: ${clean.join('; ')}`);
    const planted = [
      ['README.md', '[gone](docs/gone.md)', 'README.md:1: link to docs/gone.md: no such file'],
      ['docs/a.md', 'see [it](../../shared/x.md)', 'docs/a.md:1: link to ../../shared/x.md: outside the repository'],
      ['docs/b.md', 'named in `docs/configuration.md`.', 'docs/b.md:1: docs/configuration.md: no such file'],
      ['docs/c.md', 'run `../shared/tools/x` first', 'docs/c.md:1: ../shared/tools/x: not in the repository'],
      ['agent/b.cpp', '// (signature-vectors.md, "What the cloud answers")', 'agent/b.cpp:1: signature-vectors.md: no file'],
      ['agent/c.cpp', 'int x;  // (see platform/missing.hpp)', 'agent/c.cpp:1: platform/missing.hpp: no such file'],
      ['agent/d.cpp', 'return "see docs/missing.md";', 'agent/d.cpp:1: docs/missing.md: no such file'],
      ['agent/e.cpp', '// (see ../shared/reference/x.md)', 'agent/e.cpp:1: ../shared/reference/x.md: not in the repository'],
      ['agent/f.hpp', '/* once\n * in tests/gone/ */', 'agent/f.hpp:2: tests/gone/: no such file'],
      ['scripts/g', '#!/bin/sh\n./scripts/missing  # then tools/gone.cpp', 'scripts/g:2: ./scripts/missing: no such file'],
      ['scripts/h', '#!/bin/sh\nexit 0  # then tools/gone.cpp', 'scripts/h:2: tools/gone.cpp: no such file'],
    ];
    let failed = 0;
    for (const [file, text, want] of planted) {
      write(file, text);
      const got = check(scratch);
      if (!got.some((p) => p.startsWith(want))) {
        console.error(`self-test: not reported: ${text} (want ${want}; got: ${got.join('; ') || 'nothing'})`);
        failed = 1;
      }
      fs.rmSync(path.join(scratch, file));
    }
    if (!failed) console.log('check_repo_paths: every planted broken link and path was reported');
    return failed;
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const here = path.dirname(fileURLToPath(import.meta.url));
  if (process.argv[2] === '--self-test') {
    process.exit(selfTest());
  }
  const root = path.resolve(process.argv[2] || path.join(here, '..', '..'));
  const problems = check(root);
  for (const p of problems) console.log(p);
  if (problems.length) {
    console.log(`check_repo_paths: ${problems.length} links or paths name nothing in the repository`);
    process.exit(1);
  }
  console.log('check_repo_paths: every relative link and repository path exists');
}
