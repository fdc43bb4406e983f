// Code written for a Cloudflare Worker (env.MY_BUCKET is an R2Bucket), run in
// Node over client.bucket(), plus the seed's R2Service on top of it.
// Type-checked and compiled by `make node-types`, run by the Node test suite.
import * as r2 from '../../bindings/node';

declare const process: { env: Record<string, string | undefined>; exit(code: number): never };
// Node's globals, declared here because @types/node is not assumed.
declare const console: { log(...args: unknown[]): void; error(...args: unknown[]): void };
declare const Headers: { new (): r2.HeadersLike };

interface Env { MY_BUCKET: r2.R2Bucket }

// The Worker's fetch handler from Cloudflare's R2 example, unchanged but for the types.
async function handle(method: string, key: string, body: string | null, env: Env): Promise<{ status: number; text: string; headers: r2.HeadersLike }> {
  const headers: r2.HeadersLike = new Headers();
  switch (method) {
    case 'PUT':
      await env.MY_BUCKET.put(key, body, { httpMetadata: { contentType: 'text/plain' } });
      return { status: 200, text: `Put ${key} successfully!`, headers };
    case 'GET': {
      const object = await env.MY_BUCKET.get(key);
      if (object === null) return { status: 404, text: 'Object Not Found', headers };
      object.writeHttpMetadata(headers);
      headers.set('etag', object.httpEtag);
      return { status: 200, text: await object.text(), headers };
    }
    case 'DELETE':
      await env.MY_BUCKET.delete(key);
      return { status: 200, text: 'Deleted!', headers };
    default:
      return { status: 405, text: 'Method Not Allowed', headers };
  }
}

async function main(): Promise<void> {
  const client = r2.Client.fromEnv();
  const env: Env = { MY_BUCKET: client.bucket(process.env.R2_EXAMPLE_BUCKET || 'my-bucket') };
  try {
    console.log((await handle('PUT', 'examples/worker.txt', 'from a Worker, in Node', env)).text);
    const got = await handle('GET', 'examples/worker.txt', null, env);
    console.log(`${got.status} ${got.headers.get('content-type')} ${got.text}`);

    const service = new r2.R2Service(env.MY_BUCKET);
    await service.putJson('examples/meta.json', { ok: true }, { by: 'R2Service' });
    const meta = await service.get('examples/meta.json');
    console.log(`R2Service: ${JSON.stringify(await meta?.json())}`);
    await service.delete('examples/meta.json');

    console.log((await handle('DELETE', 'examples/worker.txt', null, env)).text);
    console.log((await handle('GET', 'examples/worker.txt', null, env)).status);
  } finally {
    client.close();
  }
}

main().catch((e: Error) => { console.error(`error: ${e.message}`); process.exit(1); });
