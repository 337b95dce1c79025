// The FHIR API as an EHR sees it: the secretariat registers a system client
// for the demo hospital, the client gets a token with a signed JWT assertion
// and then uses a real FHIR client library (fhir-kit-client from npm) to read
// the CapabilityStatement, find patients (PDQm, PIXm), search and page lab
// results, write a transaction, a JP-CLINS discharge summary and an MHD
// document, and meet the errors an integrator would meet.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import path from 'node:path';
import { startServer, Client, repo } from './harness.mjs';

// fhir-kit-client is installed with the web app's development packages.
const { Client: FhirClient } = await import(
  pathToFileURL(path.join(repo, 'web', 'node_modules', 'fhir-kit-client', 'dist', 'index.js')).href);

const kHospital = '県北中央病院';
const kClinic = 'さくら通りファミリークリニック';
const kPdf = '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n';

let server;
let admin;

const b64url = (data) => Buffer.from(data).toString('base64url');

/** A system client of a facility: its key pair and client_id. */
async function registerClient(facilityName, scopes = 'system/*.cruds') {
  const facilities = await admin.get('/api/v1/facilities?q=' + encodeURIComponent(facilityName));
  assert.equal(facilities.status, 200, facilities.text);
  const facility = facilities.json.items.find((f) => f.name === facilityName);
  assert.ok(facility, `demo facility ${facilityName}`);
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'ES384', use: 'sig' };
  const r = await admin.post('/api/v1/system-clients', {
    name: `${facilityName} 電子カルテ`, facility_id: facility.id, public_key: JSON.stringify(jwk), scopes,
  });
  assert.equal(r.status, 201, r.text);
  return { clientId: r.json.client_id, privateKey, facility };
}

function assertion(client, audience, overrides = {}) {
  const header = { alg: 'ES384', typ: 'JWT', kid: 'k1' };
  const now = Math.floor(Date.now() / 1000);
  const claims = { iss: client.clientId, sub: client.clientId, aud: audience, exp: now + 240, jti: randomUUID(), ...overrides };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const signature = sign('sha384', Buffer.from(input), { key: client.privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64url(signature)}`;
}

async function token(client, scope = 'system/*.cruds') {
  const r = await fetch(server.url + '/oauth/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials', scope,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion(client, server.url + '/oauth/token'),
    }),
  });
  const json = await r.json();
  assert.equal(r.status, 200, JSON.stringify(json));
  return json.access_token;
}

/** The FHIR client's error (fhir-kit-client throws the response). */
async function failure(promise) {
  try {
    await promise;
  } catch (e) {
    return { status: e.response?.status, body: e.response?.data };
  }
  assert.fail('the request should have failed');
}

before(async () => {
  server = await startServer();
  admin = new Client(server.url);
  const login = await admin.login('admin');
  assert.equal(login.status, 200, login.text);
});

after(async () => { await server?.stop(); });

test('an EHR reads and writes the shared record through FHIR', async () => {
  const hospital = await registerClient(kHospital);
  const accessToken = await token(hospital);
  const fhir = new FhirClient({ baseUrl: server.url + '/fhir', bearerToken: accessToken });

  // Discovery.
  const capability = await fhir.capabilityStatement();
  assert.equal(capability.resourceType, 'CapabilityStatement');
  assert.equal(capability.fhirVersion, '4.0.1');
  assert.ok(capability.rest[0].resource.some((r) => r.type === 'Observation'));
  const smart = await fhir.smartAuthMetadata();
  assert.equal(String(smart.tokenUrl), server.url + '/oauth/token');

  // PDQm: the hospital's patients; find one with lab results.
  const patients = await fhir.search({ resourceType: 'Patient', searchParams: { _count: 50 } });
  assert.equal(patients.type, 'searchset');
  assert.ok(patients.entry.length > 0, 'the hospital has patients');
  let patient = null;
  let labs = null;
  for (const e of patients.entry) {
    const found = await fhir.search({ resourceType: 'Observation', searchParams: { patient: e.resource.id, _count: 3, _total: 'accurate' } });
    if (found.entry?.length) { patient = e.resource; labs = found; break; }
  }
  assert.ok(patient, 'a demo patient with lab results');
  assert.equal(patient.meta.profile[0], 'http://jpfhir.jp/fhir/core/StructureDefinition/JP_Patient');
  const kana = patient.name.find((n) => n.extension?.[0]?.valueCode === 'SYL');
  assert.ok(kana?.text, 'the kana name is given');

  // PDQm by kana and birth date finds the same person.
  const byName = await fhir.search({ resourceType: 'Patient', searchParams: { family: kana.family, birthdate: patient.birthDate } });
  assert.ok(byName.entry.some((e) => e.resource.id === patient.id));

  // PIXm: the hospital's local ID -> the regional ID.
  const local = patient.identifier.find((i) => i.system.startsWith('urn:oid:1.2.392.100495.20.3.51.1'));
  assert.ok(local, 'the local ID at the hospital');
  const pix = await fhir.operation({ resourceType: 'Patient', name: '$ihe-pix', method: 'GET',
    input: { sourceIdentifier: `${local.system}|${local.value}` } });
  assert.equal(pix.resourceType, 'Parameters');
  assert.ok(pix.parameter.some((p) => p.name === 'targetId' && p.valueReference.reference === `Patient/${patient.id}`));
  assert.ok(pix.parameter.some((p) => p.valueIdentifier?.system === 'urn:tsunagu:regional-id'));

  // Paging through the lab results with the library's nextPage.
  assert.ok(labs.total >= 1);
  let seen = labs.entry.length;
  let page = labs;
  while (page.link.some((l) => l.relation === 'next') && seen < 12) {
    page = await fhir.nextPage({ bundle: page });
    seen += page.entry.length;
  }
  assert.ok(seen >= Math.min(labs.total, 12));

  // Read by id: the subject names the regional patient.
  const first = labs.entry[0].resource;
  const read = await fhir.read({ resourceType: 'Observation', id: first.id });
  assert.equal(read.subject.reference, `Patient/${patient.id}`);
  assert.ok(read.code.coding[0].code);

  // A transaction: a new diagnosis, named by the regional ID.
  const tx = await fhir.transaction({ body: {
    resourceType: 'Bundle', type: 'transaction',
    entry: [{ resource: {
      resourceType: 'Condition', identifier: [{ system: 'urn:example:ehr:condition', value: 'C-2026-1' }],
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
      code: { coding: [{ system: 'http://jpfhir.jp/fhir/core/CodeSystem/JP_ConditionDiseaseCode_MEDIS', code: '20064366', display: '心房細動' }], text: '心房細動' },
      subject: { reference: `Patient/${patient.id}` }, onsetDateTime: '2026-10-01',
    }, request: { method: 'POST', url: 'Condition' } }],
  } });
  assert.equal(tx.type, 'transaction-response');
  assert.equal(tx.entry[0].response.status, '201 Created');
  const conditions = await fhir.search({ resourceType: 'Condition', searchParams: { patient: patient.id, code: '20064366' } });
  assert.equal(conditions.entry.length, 1);
  // The same transaction again stores nothing new.
  const again = await fhir.transaction({ body: {
    resourceType: 'Bundle', type: 'transaction',
    entry: [{ resource: { ...conditions.entry[0].resource, id: undefined, meta: undefined, subject: { reference: `Patient/${patient.id}` } }, request: { method: 'POST', url: 'Condition' } }],
  } });
  assert.equal(again.entry[0].response.status, '200 OK');

  // A JP-CLINS discharge summary: a document whose allergy joins the timeline.
  const docId = randomUUID();
  const doc = await fhir.create({ resourceType: 'Bundle', body: {
    resourceType: 'Bundle', type: 'document', identifier: { system: 'http://jpfhir.jp/fhir/clins/bundle-identifier', value: docId },
    timestamp: '2026-11-01T10:00:00+09:00',
    entry: [
      { fullUrl: 'urn:uuid:comp', resource: { resourceType: 'Composition', status: 'final',
        type: { coding: [{ system: 'http://loinc.org', code: '18842-5', display: '退院時サマリー' }] },
        subject: { reference: 'urn:uuid:pat' }, date: '2026-11-01', title: '退院時サマリー', author: [{ display: '佐藤 医師' }],
        section: [{ title: '入院中経過', text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">軽快退院</div>' } }] } },
      { fullUrl: 'urn:uuid:pat', resource: { resourceType: 'Patient', identifier: [local] } },
      { fullUrl: 'urn:uuid:alg', resource: { resourceType: 'AllergyIntolerance', code: { text: 'ヨード造影剤' }, patient: { reference: 'urn:uuid:pat' } } },
    ] } });
  assert.equal(doc.type, 'transaction-response');
  const docRef = doc.entry[0].response.location;
  assert.match(docRef, /^DocumentReference\//);
  const allergies = await fhir.search({ resourceType: 'AllergyIntolerance', searchParams: { patient: patient.id } });
  assert.ok(allergies.entry.some((e) => e.resource.code.text === 'ヨード造影剤'));

  // MHD: provide a PDF referral letter, find it, retrieve it.
  const mhd = await fhir.transaction({ body: {
    resourceType: 'Bundle', type: 'transaction',
    entry: [
      { fullUrl: 'urn:uuid:ss', resource: { resourceType: 'List', meta: { profile: ['https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.Minimal.SubmissionSet'] }, status: 'current', mode: 'working' }, request: { method: 'POST', url: 'List' } },
      { fullUrl: 'urn:uuid:dr', resource: { resourceType: 'DocumentReference', status: 'current',
        masterIdentifier: { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${randomUUID()}` },
        type: { coding: [{ system: 'http://loinc.org', code: '57133-1', display: '診療情報提供書' }] },
        subject: { reference: `Patient/${patient.id}` }, date: '2026-11-02T09:00:00+09:00',
        content: [{ attachment: { contentType: 'application/pdf', url: 'urn:uuid:bin', title: 'referral.pdf' } }] },
        request: { method: 'POST', url: 'DocumentReference' } },
      { fullUrl: 'urn:uuid:bin', resource: { resourceType: 'Binary', contentType: 'application/pdf', data: Buffer.from(kPdf).toString('base64') }, request: { method: 'POST', url: 'Binary' } },
    ] } });
  assert.equal(mhd.entry[1].response.status, '201 Created');
  const binary = mhd.entry[2].response.location;
  const refs = await fhir.search({ resourceType: 'DocumentReference', searchParams: { patient: patient.id, type: 'http://loinc.org|57133-1' } });
  assert.ok(refs.entry.some((e) => e.resource.content[0].attachment.url === binary));
  const raw = await fetch(`${server.url}/fhir/${binary}`, { headers: { authorization: `Bearer ${accessToken}`, accept: 'application/pdf' } });
  assert.equal(raw.status, 200);
  assert.equal(raw.headers.get('content-type'), 'application/pdf');
  assert.equal(await raw.text(), kPdf);
  const asFhir = await fhir.read({ resourceType: 'Binary', id: binary.slice(7) });
  assert.equal(Buffer.from(asFhir.data, 'base64').toString(), kPdf);

  // Errors an integrator meets, each an OperationOutcome.
  const invalid = await failure(fhir.transaction({ body: { resourceType: 'Bundle', type: 'transaction', entry: [
    { resource: { resourceType: 'Observation', status: 'final', subject: { reference: `Patient/${patient.id}` }, effectiveDateTime: '2026-11-01' }, request: { method: 'POST', url: 'Observation' } }] } }));
  assert.equal(invalid.status, 422);
  assert.equal(invalid.body.resourceType, 'OperationOutcome');
  assert.deepEqual(invalid.body.issue[0].expression, ['Bundle.entry[0].resource.code']);
  const unknownType = await failure(fhir.search({ resourceType: 'Spaceship', searchParams: {} }));
  assert.equal(unknownType.status, 404);
  const noPatient = await failure(fhir.search({ resourceType: 'Observation', searchParams: { code: 'x' } }));
  assert.equal(noPatient.status, 400);
  assert.match(noPatient.body.issue[0].diagnostics, /patient is required/);
  const missing = await failure(fhir.read({ resourceType: 'Observation', id: 'no-such-id' }));
  assert.equal(missing.status, 404);

  const anonymous = await fetch(server.url + '/fhir/Patient');
  assert.equal(anonymous.status, 401);
  assert.equal((await anonymous.json()).resourceType, 'OperationOutcome');
  const forged = await fetch(server.url + '/fhir/Patient', { headers: { authorization: 'Bearer not-a-token' } });
  assert.equal(forged.status, 401);

  // A read-only token may not write.
  const reader = new FhirClient({ baseUrl: server.url + '/fhir', bearerToken: await token(hospital, 'system/*.rs') });
  const readOnly = await failure(reader.create({ resourceType: 'Condition', body: {
    resourceType: 'Condition', code: { text: 'x' }, subject: { reference: `Patient/${patient.id}` }, onsetDateTime: '2026-01-01' } }));
  assert.equal(readOnly.status, 403);

  // A clinic's client sees the hospital's data of a patient whose
  // comprehensive consent covers it, and nothing of a patient without one.
  const clinic = await registerClient(kClinic, 'system/*.rs');
  const clinicFhir = new FhirClient({ baseUrl: server.url + '/fhir', bearerToken: await token(clinic, 'system/*.rs') });
  const shared = await clinicFhir.read({ resourceType: 'Observation', id: first.id });
  assert.equal(shared.id, first.id);
  const sato = new Client(server.url);
  assert.equal((await sato.login('dr.sato')).status, 200);
  const registered = await sato.post('/api/v1/patients', {
    name: '連携 試験', kana: 'レンケイ シケン', birth_date: '1960-02-02', sex: 'female', local_id: 'FHIR-0001',
  });
  assert.equal(registered.status, 201, registered.text);
  const newcomer = registered.json.regional_id;
  const written = await fhir.create({ resourceType: 'Condition', body: {
    resourceType: 'Condition', code: { text: '高血圧症' }, onsetDateTime: '2026-11-01',
    subject: { identifier: { system: local.system, value: 'FHIR-0001' } } } });
  assert.equal(written.subject.identifier.value, 'FHIR-0001');
  const ownView = await fhir.search({ resourceType: 'Condition', searchParams: { patient: newcomer } });
  assert.equal(ownView.entry.length, 1);
  const refused = await failure(clinicFhir.search({ resourceType: 'Condition', searchParams: { patient: newcomer } }));
  assert.equal(refused.status, 403);
  assert.equal(refused.body.resourceType, 'OperationOutcome');
  const refusedRead = await failure(clinicFhir.read({ resourceType: 'Condition', id: written.id }));
  assert.equal(refusedRead.status, 403);

  // Every FHIR read and write is in the audit log, without clinical details.
  const audit = await admin.get('/api/v1/audit?action=fhir.&limit=200');
  assert.equal(audit.status, 200, audit.text);
  const actions = new Set(audit.json.items.map((e) => e.action));
  for (const a of ['fhir.search', 'fhir.patient.search', 'fhir.pix', 'fhir.write']) assert.ok(actions.has(a), a);
  assert.ok(!audit.text.includes('心房細動') && !audit.text.includes('ヨード造影剤'));
});
