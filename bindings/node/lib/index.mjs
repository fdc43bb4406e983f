// ES module entry: the same objects as require('r2').
import { createRequire } from 'node:module';

const r2 = createRequire(import.meta.url)('./index.js');
export default r2;
export const {
  Client, Signer, R2Bucket, R2Object, R2ObjectBody, R2Service, R2SigningClient, createR2SigningClientFromEnv,
  R2Error, version, libraryPath,
} = r2;
