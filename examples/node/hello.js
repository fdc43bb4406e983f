// r2 from Node: put, get, stream, list, presign, a file round trip.
// Run: R2_ENDPOINT=... R2_ACCESS_KEY_ID=... R2_SECRET_ACCESS_KEY=... [R2_ALLOW_HTTP=1] \
//      R2_EXAMPLE_BUCKET=my-bucket node examples/node/hello.js
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const r2 = require('../../bindings/node'); // require('r2') once installed from the npm pack tarball

async function main() {
  const bucket = process.env.R2_EXAMPLE_BUCKET || 'my-bucket';
  const client = r2.Client.fromEnv();
  try {
    await client.put(bucket, 'examples/hello.txt', 'hello from Node ✓', { contentType: 'text/plain', metadata: { from: 'node' } });
    const got = await client.get(bucket, 'examples/hello.txt');
    console.log(`get: ${got.body.toString()} (${got.size} bytes, ${got.contentType}, etag ${got.etag})`);

    // stream a body in and out (unknown length goes multipart)
    const { Readable } = require('node:stream');
    await client.put(bucket, 'examples/lines.txt', Readable.from(['one\n', 'two\n', 'three\n']));
    const stream = await client.getStream(bucket, 'examples/lines.txt');
    let text = '';
    for await (const chunk of stream) text += chunk;
    console.log(`getStream: ${JSON.stringify(text)}`);

    for await (const o of client.listAll(bucket, { prefix: 'examples/' })) console.log(`list: ${o.key} ${o.size}`);

    // a file up and down through the transfer manager, with progress and a way to cancel
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'r2-example-'));
    const file = path.join(dir, 'data.bin');
    fs.writeFileSync(file, Buffer.alloc(3 * 1024 * 1024, 7));
    const ac = new AbortController();
    await client.uploadFile(file, bucket, 'examples/data.bin', { signal: ac.signal, onProgress: ({ bytes, total }) => process.stdout.write(`\rupload ${bytes}/${total}`) });
    await client.downloadFile(bucket, 'examples/data.bin', path.join(dir, 'back.bin'));
    console.log(`\ndownloadFile: ${fs.statSync(path.join(dir, 'back.bin')).size} bytes`);
    fs.rmSync(dir, { recursive: true });

    console.log(`presigned: ${client.presign('GET', bucket, 'examples/hello.txt', 600).split('?')[0]}?…`);

    try {
      await client.get(bucket, 'examples/missing');
    } catch (e) {
      if (!(e instanceof r2.NoSuchKey)) throw e;
      console.log(`missing: ${e.code} (HTTP ${e.status}, request ${e.requestId})`);
    }
    const del = await client.deleteMany(bucket, ['examples/hello.txt', 'examples/lines.txt', 'examples/data.bin']);
    console.log(`deleted ${del.deleted.length}`);
  } finally {
    client.close();
  }
}

main().catch((e) => { console.error(`error: ${e.message}`); process.exit(1); });
