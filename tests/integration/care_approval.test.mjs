// A network that requires the secretariat's approval of new care groups
// (--care-group-approval): the group waits, its members do not see it and
// nobody can post, until the secretariat approves it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, Client, expectError } from './harness.mjs';

let server;

before(async () => { server = await startServer({ extraArgs: ['--care-group-approval'] }); });
after(async () => { await server?.stop(); });

test('a new care group waits for the secretariat and opens when approved', async () => {
  const kato = new Client(server.url);
  assert.equal((await kato.login('dr.kato')).status, 200);
  const patients = await kato.get('/api/v1/patients?limit=50');
  assert.equal(patients.status, 200, patients.text);
  const groups = await kato.get('/api/v1/care/groups');
  const taken = new Set(groups.json.items.map((g) => g.regional_id));
  const patient = patients.json.items.find((p) => !taken.has(p.regional_id));
  assert.ok(patient, 'a patient without a group');

  const created = await kato.post('/api/v1/care/groups', { regional_id: patient.regional_id, name: '承認待ちのチーム' });
  assert.equal(created.status, 201, created.text);
  assert.equal(created.json.approval, 'pending');
  const gid = created.json.id;

  // The owner adds the nurse, who cannot see the group yet; posting waits.
  const suzuki = new Client(server.url);
  const me = await suzuki.login('ns.suzuki');
  assert.equal(me.status, 200);
  const consent = await kato.post(`/api/v1/patients/${patient.regional_id}/consents`,
    { scope: 'care_team', viewer_facility_id: me.json.user.facility_id, valid_from: '2025-01-01' });
  assert.equal(consent.status, 201, consent.text);
  const added = await kato.post(`/api/v1/care/groups/${gid}/members`, { user_id: me.json.user.id });
  assert.equal(added.status, 201, added.text);
  expectError(assert, await suzuki.get(`/api/v1/care/groups/${gid}`), 403);
  assert.ok(!(await suzuki.get('/api/v1/care/groups')).json.items.some((g) => g.id === gid));
  expectError(assert, await kato.post(`/api/v1/care/groups/${gid}/posts`, { kind: 'message', body: 'はじめまして' }), 409);

  // Only the secretariat decides.
  expectError(assert, await kato.get('/api/v1/care/group-approvals'), 403);
  expectError(assert, await kato.post(`/api/v1/care/groups/${gid}/approval`, { decision: 'approve' }), 403);
  const admin = new Client(server.url);
  assert.equal((await admin.login('admin')).status, 200);
  const pending = await admin.get('/api/v1/care/group-approvals');
  assert.equal(pending.status, 200, pending.text);
  assert.ok(pending.json.items.some((g) => g.id === gid && g.name === '承認待ちのチーム'));
  expectError(assert, await admin.post(`/api/v1/care/groups/${gid}/approval`, { decision: 'maybe' }), 400);
  expectError(assert, await admin.post(`/api/v1/care/groups/${gid}/approval`, { decision: 'reject' }), 400);
  const approved = await admin.post(`/api/v1/care/groups/${gid}/approval`, { decision: 'approve' });
  assert.equal(approved.status, 200, approved.text);
  assert.equal(approved.json.approval, 'approved');

  assert.equal((await suzuki.get(`/api/v1/care/groups/${gid}`)).status, 200);
  const post = await kato.post(`/api/v1/care/groups/${gid}/posts`, { kind: 'message', body: 'はじめまして' });
  assert.equal(post.status, 201, post.text);
  expectError(assert, await admin.post(`/api/v1/care/groups/${gid}/approval`, { decision: 'approve' }), 409);
});
