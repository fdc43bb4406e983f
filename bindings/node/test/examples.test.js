'use strict';
// examples/node runs against the server: the JavaScript one as is, the
// TypeScript one as `make node-types` compiled it into .build/node-examples.
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const { ROOT, BUCKET, env, requireServer } = require('./helpers');

function run(script) {
  requireServer();
  return execFileSync(process.execPath, [script], {
    encoding: 'utf8',
    env: {
      ...process.env, R2_ENDPOINT: env.R2_TEST_ENDPOINT, R2_ALLOW_HTTP: '1', R2_ACCESS_KEY_ID: env.R2_TEST_ACCESS_KEY_ID,
      R2_SECRET_ACCESS_KEY: env.R2_TEST_SECRET_ACCESS_KEY, R2_EXAMPLE_BUCKET: BUCKET, R2_ACCOUNT_ID: '',
    },
  });
}

test('examples/node/hello.js', () => {
  const out = run(path.join(ROOT, 'examples', 'node', 'hello.js'));
  assert.match(out, /get: hello from Node ✓ \(19 bytes, text\/plain/);
  assert.match(out, /getStream: "one\\ntwo\\nthree\\n"/);
  assert.match(out, /downloadFile: 3145728 bytes/);
  assert.match(out, /missing: NoSuchKey \(HTTP 404/);
  assert.match(out, /deleted 3/);
});

test('examples/node/worker-style.ts (compiled by make node-types)', () => {
  const out = run(path.join(ROOT, '.build', 'node-examples', 'examples', 'node', 'worker-style.js'));
  assert.match(out, /Put examples\/worker.txt successfully!/);
  assert.match(out, /200 text\/plain from a Worker, in Node/);
  assert.match(out, /R2Service: \{"ok":true\}/);
  assert.match(out, /Deleted!\n404/);
});
