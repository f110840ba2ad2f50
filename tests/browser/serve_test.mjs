// dashboard/serve.mjs: serves the root and nothing outside it, with security headers.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { startServer } from '../../dashboard/serve.mjs';

let dir;
let web;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'swas-serve-'));
  mkdirSync(path.join(dir, 'root', 'vendor'), { recursive: true });
  writeFileSync(path.join(dir, 'root', 'index.html'), '<!doctype html><title>t</title>');
  writeFileSync(path.join(dir, 'root', 'vendor', 'a.js'), 'export default 1;');
  writeFileSync(path.join(dir, 'root', '.secret'), 'no');
  writeFileSync(path.join(dir, 'outside.txt'), 'no');
  symlinkSync(path.join(dir, 'outside.txt'), path.join(dir, 'root', 'link.txt'));
  web = await startServer({ root: path.join(dir, 'root'), port: 0 });
});
after(() => {
  web.server.close();
  rmSync(dir, { recursive: true, force: true });
});

const get = (p, method = 'GET') => fetch(new URL(p, web.url), { method });

test('listens on loopback and serves index.html for /', async () => {
  assert.match(web.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  const r = await get('/');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/html/);
  assert.match(r.headers.get('content-security-policy'), /default-src 'self'/);
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
  assert.match(await r.text(), /<title>t<\/title>/);
});

test('JavaScript gets a JavaScript type (module scripts need it)', async () => {
  const r = await get('/vendor/a.js');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/javascript/);
});

test('nothing outside the root, no dot files, no symlinks out, no directories', async () => {
  for (const p of ['/../outside.txt', '/%2e%2e/outside.txt', '/vendor/..%2f..%2foutside.txt', '/.secret', '/link.txt',
    '/vendor', '/missing.html', '/%zz']) {
    const r = await get(p);
    assert.equal(r.status, 404, p);
  }
});

test('only GET and HEAD', async () => {
  assert.equal((await get('/', 'HEAD')).status, 200);
  assert.equal((await get('/', 'POST')).status, 405);
});
