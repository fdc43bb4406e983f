'use strict';
// How the addon finds libr2: next to itself, then $R2_LIBRARY, then the system
// loader path; a failure names every place it looked. And the npm pack tarball
// installs (offline) and loads its bundled libr2.
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const r2 = require('..');

const addon = path.join(__dirname, '..', 'build', 'r2.node');
const realLib = fs.realpathSync(r2.libraryPath);

function load(dir, env) {
  return spawnSync(process.execPath, ['-e', `const n = require(${JSON.stringify(path.join(dir, 'r2.node'))}); console.log(n.libraryPath)`],
    { encoding: 'utf8', env: { ...process.env, LD_LIBRARY_PATH: '', ...env } });
}

test('libr2 next to the addon, then R2_LIBRARY, else an error naming where it looked', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'r2-node-lib-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.copyFileSync(addon, path.join(dir, 'r2.node'));

  const missing = load(dir, { R2_LIBRARY: '' });
  assert.notEqual(missing.status, 0);
  assert.match(missing.stderr, /cannot load libr2; tried:/);
  assert.ok(missing.stderr.includes(path.join(dir, 'libr2.so')), missing.stderr);
  assert.match(missing.stderr, /\$R2_LIBRARY: not set/);
  assert.match(missing.stderr, /\n\s+libr2\.so: /);

  const viaEnv = load(dir, { R2_LIBRARY: realLib });
  assert.equal(viaEnv.status, 0, viaEnv.stderr);
  assert.equal(viaEnv.stdout.trim(), realLib);

  const badEnv = load(dir, { R2_LIBRARY: '/nonexistent/libr2.so' });
  assert.match(badEnv.stderr, /\/nonexistent\/libr2\.so: /);

  fs.symlinkSync(realLib, path.join(dir, 'libr2.so'));
  const beside = load(dir, { R2_LIBRARY: '/nonexistent/libr2.so' });
  assert.equal(beside.status, 0, beside.stderr);
  assert.equal(beside.stdout.trim(), path.join(dir, 'libr2.so'));
});

test('the npm pack tarball installs offline and loads its bundled libr2', (t) => {
  const tarballs = fs.readdirSync(path.join(__dirname, '..', '..', '..', '.build')).filter((f) => /^r2-.*\.tgz$/.test(f));
  assert.ok(tarballs.length, 'run `make node-pack` first (make node-test does)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'r2-node-install-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'package.json'), '{"name":"app","version":"1.0.0","private":true}');
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', path.join(__dirname, '..', '..', '..', '.build', tarballs[0])], { cwd: dir, stdio: 'pipe' });
  const out = execFileSync(process.execPath, ['--input-type=module', '-e',
    "import r2, { Client } from 'r2'; import { createRequire } from 'node:module'; const c = createRequire(import.meta.url)('r2'); console.log(r2.libraryPath, Client === c.Client, typeof c.R2Service)"],
  { cwd: dir, encoding: 'utf8', env: { ...process.env, R2_LIBRARY: '' } });
  assert.equal(out.trim(), `${path.join(fs.realpathSync(dir), 'node_modules', 'r2', 'build', 'libr2.so')} true function`);
});
