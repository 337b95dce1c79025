// Prints a bearer token for a system client (docs/oauth.md): signs an ES384
// client assertion with the client's private key and posts it to
// /oauth/token. Used by bench/clinical_scale_bench.sh right before each FHIR
// measurement (tokens last five minutes).
//   node bench/scale_token.mjs BASE_URL CLIENT_ID PRIVATE_KEY_PEM
import { createPrivateKey, randomUUID, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';

const [base, clientId, keyFile] = process.argv.slice(2);
if (!base || !clientId || !keyFile) {
  console.error('usage: node bench/scale_token.mjs BASE_URL CLIENT_ID PRIVATE_KEY_PEM');
  process.exit(2);
}
const key = createPrivateKey(readFileSync(keyFile));
const b64url = (data) => Buffer.from(data).toString('base64url');
const audience = `${base}/oauth/token`;
const now = Math.floor(Date.now() / 1000);
const header = { alg: 'ES384', typ: 'JWT' };
const claims = { iss: clientId, sub: clientId, aud: audience, exp: now + 240, jti: randomUUID() };
const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
const signature = sign('sha384', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });

const r = await fetch(audience, {
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({
    grant_type: 'client_credentials',
    scope: 'system/Observation.rs',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: `${input}.${b64url(signature)}`,
  }),
});
const json = await r.json();
if (r.status !== 200) {
  console.error(`token request failed: ${r.status} ${JSON.stringify(json)}`);
  process.exit(1);
}
console.log(json.access_token);
