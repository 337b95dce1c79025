// The care SNS API as a family doctor and a nurse use it: a care group for
// one of the clinic's patients, a templated "today's status" post with vital
// signs, an out-of-range blood pressure refused, a comment,
// Japanese free-word search, drafts, deletion, and a non-member refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, Client, expectError } from './harness.mjs';

let server;

before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

test('a care group with templated posts, comments, drafts and search', async () => {
  const kato = new Client(server.url);
  assert.equal((await kato.login('dr.kato')).status, 200);
  const patients = await kato.get('/api/v1/patients?limit=5');
  assert.equal(patients.status, 200, patients.text);
  const patient = patients.json.items[0];
  assert.ok(patient, 'the clinic has patients');

  const templates = await kato.get('/api/v1/care/templates/status');
  assert.equal(templates.status, 200, templates.text);
  assert.ok(templates.json.items.length > 10);

  const group = await kato.post('/api/v1/care/groups', { regional_id: patient.regional_id, name: `${patient.name}さんの在宅チーム` });
  assert.equal(group.status, 201, group.text);
  const gid = group.json.id;
  // One active group per patient.
  expectError(assert, await kato.post('/api/v1/care/groups', { regional_id: patient.regional_id, name: '重複' }), 409);

  const post = await kato.post(`/api/v1/care/groups/${gid}/posts`, {
    kind: 'status', title: '訪問診療', body: '食欲が戻ってきました。夜間の咳は減少。',
    values: { 'vital.bp_systolic': 132, 'vital.bp_diastolic': 78, 'vital.temperature': 36.6 },
  });
  assert.equal(post.status, 201, post.text);
  const pid = post.json.id;

  // An impossible blood pressure is refused and nothing is stored.
  const bad = await kato.post(`/api/v1/care/groups/${gid}/posts`, {
    kind: 'status', title: 'x', values: { 'vital.bp_systolic': 400, 'vital.bp_diastolic': 10 },
  });
  expectError(assert, bad, 400, 'invalid_input');
  assert.match(bad.json.error.message, /bp_systolic/);
  expectError(assert, await kato.post(`/api/v1/care/groups/${gid}/posts`, { kind: 'message', body: '' }), 400);

  // A draft is the author's own until published.
  const draft = await kato.post(`/api/v1/care/groups/${gid}/posts`, { kind: 'message', title: '下書き', body: '明日確認', draft: true });
  assert.equal(draft.status, 201, draft.text);

  const opened = await kato.get(`/api/v1/care/posts/${pid}`);
  assert.equal(opened.status, 200, opened.text);
  assert.equal(opened.json.title, '訪問診療');
  assert.equal(Number(opened.json.values['vital.bp_systolic']), 132);
  assert.deepEqual(opened.json.readers, [], 'the author is not counted as a reader');
  const comment = await kato.post(`/api/v1/care/posts/${pid}/comments`, { body: '次回は血液検査を予定' });
  assert.equal(comment.status, 201, comment.text);

  // Japanese substring search without spaces; all words must match.
  const found = await kato.get(`/api/v1/care/groups/${gid}/posts?q=${encodeURIComponent('咳 食欲')}`);
  assert.equal(found.status, 200, found.text);
  assert.deepEqual(found.json.items.map((p) => p.id), [pid]);
  assert.equal(found.json.items[0].read_count, 0);
  const none = await kato.get(`/api/v1/care/groups/${gid}/posts?q=${encodeURIComponent('咳 転倒')}`);
  assert.equal(none.json.items.length, 0);

  // Someone outside the group sees nothing of it.
  const suzuki = new Client(server.url);
  assert.equal((await suzuki.login('ns.suzuki')).status, 200);
  const outside = await suzuki.get(`/api/v1/care/groups/${gid}/posts`);
  assert.ok([403, 404].includes(outside.status), outside.text);
  assert.ok(!outside.text.includes('食欲'));

  // The author deletes the post; comments on it are refused from then on.
  const deleted = await kato.request('DELETE', `/api/v1/care/posts/${pid}`);
  assert.equal(deleted.status, 204, deleted.text);
  expectError(assert, await kato.post(`/api/v1/care/posts/${pid}/comments`, { body: 'x' }), 409);

  // Everything was audited under the patient, without the posts' words.
  const admin = new Client(server.url);
  assert.equal((await admin.login('admin')).status, 200);
  const audit = await admin.get(`/api/v1/audit?action=care.&patient_id=${patient.regional_id}&limit=100`);
  assert.equal(audit.status, 200, audit.text);
  assert.ok(audit.json.items.length >= 5);
  assert.ok(!audit.text.includes('食欲'));
});
