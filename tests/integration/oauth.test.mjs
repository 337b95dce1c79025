// Black-box tests of OAuth client credentials for system clients (SMART
// Backend Services, docs/oauth.md) against the real server binary: the
// secretariat registers a client, the client signs an ES384 assertion with
// node:crypto and trades it for a bearer token used under /fhir.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startServer, Client, expectError, bin, backend } from './harness.mjs';

const kAssertionType = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

let server;
let admin;
let hospital;
const ecKey = generateKeyPairSync('ec', { namedCurve: 'P-384' });

before(async () => {
  server = await startServer();
  admin = new Client(server.url);
  const r = await admin.login('admin');
  assert.equal(r.status, 200, r.text);
  const facilities = await admin.get('/api/v1/facilities');
  assert.equal(facilities.status, 200, facilities.text);
  hospital = facilities.json.items.find((f) => f.type === 'hospital' && f.status === 'active');
  assert.ok(hospital, 'the demo network has a hospital');
});
after(async () => { await server?.stop(); });

const b64url = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

// A compact JWS signed with ES384 (JOSE r||s signature form).
function assertion(clientId, { aud = server.url + '/oauth/token', jti = randomUUID(), exp, key = ecKey.privateKey, kid } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: 'ES384', typ: 'JWT', ...(kid ? { kid } : {}) };
  const claims = { iss: clientId, sub: clientId, aud, jti, iat: now, exp: exp ?? now + 240 };
  const input = `${b64url(header)}.${b64url(claims)}`;
  const signature = sign('sha384', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

async function requestToken(jwt, scope) {
  const form = new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: kAssertionType, client_assertion: jwt });
  if (scope) form.set('scope', scope);
  const r = await fetch(server.url + '/oauth/token', {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString(),
  });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : null, headers: r.headers, text };
}

async function fhirGet(p, token) {
  const r = await fetch(server.url + p, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { json = null; }
  return { status: r.status, json, headers: r.headers, text };
}

async function registerClient(body) {
  return admin.post('/api/v1/system-clients', {
    name: 'つなぐ総合病院 電子カルテ', facility_id: hospital.id, scopes: ['system/*.read'],
    public_key: JSON.stringify(ecKey.publicKey.export({ format: 'jwk' })), ...body,
  });
}

test('discovery names the token endpoint of the public URL', async () => {
  for (const p of ['/.well-known/smart-configuration', '/fhir/.well-known/smart-configuration']) {
    const r = await fhirGet(p);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.token_endpoint, server.url + '/oauth/token');
    assert.deepEqual(r.json.token_endpoint_auth_methods_supported, ['private_key_jwt']);
    assert.ok(r.json.token_endpoint_auth_signing_alg_values_supported.includes('ES384'));
    assert.deepEqual(r.json.grant_types_supported, ['client_credentials']);
    assert.ok(r.json.capabilities.includes('client-confidential-asymmetric'));
  }
});

test('only the secretariat registers system clients', async () => {
  const doctor = new Client(server.url);
  assert.equal((await doctor.login('dr.sato')).status, 200);
  expectError(assert, await doctor.get('/api/v1/system-clients'), 403, 'forbidden');
  expectError(assert, await new Client(server.url).get('/api/v1/system-clients'), 401, 'unauthenticated');
  const privateKey = ecKey.privateKey.export({ format: 'pem', type: 'pkcs8' });
  const refused = await registerClient({ public_key: privateKey });
  expectError(assert, refused, 400, 'invalid_input');
  assert.match(refused.json.error.message, /private key/);
});

test('a signed ES384 assertion buys a bearer token for /fhir; replay and wrong aud are refused', async () => {
  const created = await registerClient({});
  assert.equal(created.status, 201, created.text);
  const clientId = created.json.client_id;
  assert.equal(created.json.occupation, 'physician');
  assert.equal(created.json.facility_name, hospital.name);
  assert.equal(created.json.token_endpoint, server.url + '/oauth/token');

  const jwt = assertion(clientId);
  const ok = await requestToken(jwt, 'system/Patient.rs');
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.json.token_type, 'bearer');
  assert.equal(ok.json.expires_in, 300);
  assert.equal(ok.json.scope, 'system/Patient.rs');
  assert.equal(ok.headers.get('cache-control'), 'no-store');
  const token = ok.json.access_token;

  const replay = await requestToken(jwt);
  assert.equal(replay.status, 401, replay.text);
  assert.equal(replay.json.error, 'invalid_client');
  assert.match(replay.json.error_description, /already used/);

  const wrongAud = await requestToken(assertion(clientId, { aud: 'https://other.example.jp/oauth/token' }));
  assert.equal(wrongAud.status, 401);
  assert.equal(wrongAud.json.error, 'invalid_client');
  assert.match(wrongAud.json.error_description, /aud/);

  const tooFar = await requestToken(assertion(clientId, { exp: Math.floor(Date.now() / 1000) + 3600 }));
  assert.equal(tooFar.json.error, 'invalid_client');
  const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const forged = await requestToken(assertion(clientId, { key: otherKey.privateKey }));
  assert.equal(forged.status, 401);
  assert.match(forged.json.error_description, /signature/);
  const scope = await requestToken(assertion(clientId), 'system/*.write');
  assert.equal(scope.status, 400);
  assert.equal(scope.json.error, 'invalid_scope');
  const grant = await fetch(server.url + '/oauth/token', {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=password',
  });
  assert.equal(grant.status, 400);
  assert.equal((await grant.json()).error, 'unsupported_grant_type');

  // The bearer token under /fhir: a bad one gets 401 with an OperationOutcome,
  // the good one passes the middleware.
  const bad = await fhirGet('/fhir/.well-known/smart-configuration', 'not-a-token');
  assert.equal(bad.status, 401);
  assert.match(bad.headers.get('www-authenticate'), /^Bearer .*error="invalid_token"/);
  assert.equal(bad.json.resourceType, 'OperationOutcome');
  assert.equal(bad.json.issue[0].code, 'login');
  const good = await fhirGet('/fhir/.well-known/smart-configuration', token);
  assert.equal(good.status, 200, good.text);
  const patients = await fhirGet('/fhir/Patient', token);
  assert.notEqual(patients.status, 401, patients.text);

  // Every token request is in the audit trail, without the secret.
  const audit = await admin.get('/api/v1/audit?action=oauth.token&limit=50');
  assert.equal(audit.status, 200, audit.text);
  const mine = audit.json.items.filter((e) => e.object === `client:${clientId}`);
  assert.ok(mine.some((e) => e.outcome === 'success'));
  assert.ok(mine.some((e) => e.outcome === 'failure' && /replayed/.test(e.reason)));
  assert.ok(!audit.text.includes(token), 'the token never reaches the audit trail');

  // Disabling the client revokes its token at once.
  const disabled = await admin.post(`/api/v1/system-clients/${clientId}/disable`);
  assert.equal(disabled.status, 200, disabled.text);
  assert.equal(disabled.json.status, 'disabled');
  assert.equal((await fhirGet('/fhir/.well-known/smart-configuration', token)).status, 401);
  const after = await requestToken(assertion(clientId));
  assert.equal(after.status, 401);
  assert.match(after.json.error_description, /disabled/);
  const list = await admin.get('/api/v1/system-clients');
  assert.equal(list.json.items.find((c) => c.client_id === clientId).status, 'disabled');
});

test('admin add-client on the command line prints a client_id that works', { skip: backend !== 'sqlite' && 'the command line test uses the SQLite data directory' }, async () => {
  assert.ok(hospital.code, 'the demo hospital has an institution code');
  const keyFile = path.join(server.dir, 'ehr-public.pem');
  writeFileSync(keyFile, ecKey.publicKey.export({ format: 'pem', type: 'spki' }));
  const out = execFileSync(bin, ['admin', 'add-client', '--data', server.dir, '--facility', hospital.code,
    '--name', 'CLI 電子カルテ', '--public-key', keyFile, '--scope', 'system/*.read system/Observation.write'],
  { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const clientId = out.trim();
  assert.match(clientId, /^[A-Za-z0-9_-]{24}$/);
  const r = await requestToken(assertion(clientId), 'system/Observation.write');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.scope, 'system/Observation.write');
});
