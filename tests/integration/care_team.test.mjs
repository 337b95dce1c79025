// The care team's direct messages, bulletin board and shared schedule through
// HTTP, as a family doctor, a visiting nurse, a care manager and a family
// member use them: a conversation with unread counts on the home page, the
// family writing to the nurse, the board with its optimistic versions, the
// calendar in Japan time, leaving the group, an archived group turning
// read-only, and everything audited without the words written.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, Client, expectError } from './harness.mjs';

let server;

before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

const SECRET = '夜間に38度の発熱あり';

async function login(loginId, password) {
  const c = new Client(server.url);
  const r = await c.login(loginId, password);
  assert.equal(r.status, 200, r.text);
  c.user = r.json.user;
  return c;
}

// A care group for one of Dr. Kato's patients with the nurse, the care
// manager and a family member (consents as the clinic records them).
async function setUpTeam() {
  const kato = await login('dr.kato');
  const suzuki = await login('ns.suzuki');
  const ito = await login('cm.ito');
  const sato = await login('dr.sato');  // of another facility, in no care group
  const patients = await kato.get('/api/v1/patients?limit=10');
  assert.equal(patients.status, 200, patients.text);
  // A patient of the clinic without a care group yet (the demo has one).
  let group = null, patient = null;
  for (const p of patients.json.items) {
    group = await kato.post('/api/v1/care/groups', { regional_id: p.regional_id, name: `${p.name}さんの在宅チーム` });
    if (group.status === 201) { patient = p; break; }
    assert.equal(group.status, 409, group.text);
  }
  assert.ok(patient, 'a patient without a care group');
  const rid = patient.regional_id;
  const gid = group.json.id;
  for (const body of [
    { scope: 'care_team', viewer_facility_id: suzuki.user.facility_id, valid_from: '2025-01-01' },
    { scope: 'care_team', viewer_facility_id: ito.user.facility_id, valid_from: '2025-01-01' },
    { scope: 'family', valid_from: '2025-01-01' },
  ]) {
    const c = await kato.post(`/api/v1/patients/${rid}/consents`, body);
    assert.equal(c.status, 201, c.text);
  }
  const admin = await login('admin');
  const created = await admin.post(`/api/v1/facilities/${kato.user.facility_id}/users`, {
    login_id: 'family.team', display_name: '山田 花子', kana: 'ヤマダ ハナコ', occupation: 'family',
    role: 'staff', password: 'initial-password-2026',
  });
  assert.equal(created.status, 201, created.text);
  const family = await login('family.team', 'initial-password-2026');
  const changed = await family.post('/api/v1/auth/password', { current_password: 'initial-password-2026', new_password: 'family-team-password-1' });
  assert.ok(changed.status === 204 || changed.status === 200, changed.text);

  for (const u of [suzuki, ito, family]) {
    const m = await kato.post(`/api/v1/care/groups/${gid}/members`, { user_id: u.user.id });
    assert.equal(m.status, 201, m.text);
  }
  return { kato, suzuki, ito, family, sato, admin, rid, gid };
}

test('messages, board and schedule of a care team', async () => {
  const { kato, suzuki, ito, family, sato, admin, rid, gid } = await setUpTeam();
  // This group's line of the home page's unread counts.
  const unreadOf = async (client) => {
    const r = await client.get('/api/v1/care/unread');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.total_posts, r.json.groups.reduce((n, g) => n + g.unread_posts, 0));
    assert.equal(r.json.total_messages, r.json.groups.reduce((n, g) => n + g.unread_messages, 0));
    return r.json.groups.find((g) => g.group_id === gid);
  };

  // --- direct messages -------------------------------------------------------
  const first = await suzuki.post(`/api/v1/care/groups/${gid}/conversations`, { member_ids: [kato.user.id], body: SECRET });
  assert.equal(first.status, 201, first.text);
  const cid = first.json.id;
  assert.equal(first.json.group_id, gid);
  assert.deepEqual(first.json.participants.map((p) => p.user_id).sort((a, b) => a - b),
                   [kato.user.id, suzuki.user.id].sort((a, b) => a - b));
  const doctor = first.json.participants.find((p) => p.user_id === kato.user.id);
  assert.equal(doctor.display_name, '加藤 誠');
  assert.equal(doctor.occupation, 'physician');
  assert.equal(first.json.last_message.body, SECRET);
  assert.equal(first.json.last_message.mine, true);
  assert.equal(first.json.unread_count, 0);

  // The doctor sees it on the home page and in the group.
  let unread = await unreadOf(kato);
  assert.equal(unread.name, (await kato.get(`/api/v1/care/groups/${gid}`)).json.name);
  assert.equal(unread.unread_messages, 1);
  assert.equal(unread.unread_posts, 0);
  const list = await kato.get(`/api/v1/care/groups/${gid}/conversations`);
  assert.equal(list.status, 200, list.text);
  assert.equal(list.json.items.length, 1);
  assert.equal(list.json.items[0].unread_count, 1);
  assert.equal(list.json.items[0].last_message.mine, false);
  assert.equal(list.json.items[0].last_message.author_name, '鈴木 恵子');

  // Answering "to the nurse" continues the same conversation (200, not 201).
  const reply = await kato.post(`/api/v1/care/groups/${gid}/conversations`, { member_ids: [suzuki.user.id], body: '明日往診します' });
  assert.equal(reply.status, 200, reply.text);
  assert.equal(reply.json.id, cid);
  const thread = await suzuki.get(`/api/v1/care/conversations/${cid}/messages`);
  assert.equal(thread.status, 200, thread.text);
  assert.deepEqual(thread.json.items.map((m) => [m.body, m.mine]), [[SECRET, true], ['明日往診します', false]]);
  assert.equal(thread.json.has_more, false);
  assert.equal(thread.json.items[1].author_id, kato.user.id);
  assert.match(thread.json.items[1].created_at, /^\d{4}-\d\d-\d\dT.*Z$/);
  const page = await suzuki.get(`/api/v1/care/conversations/${cid}/messages?limit=1`);
  assert.deepEqual(page.json.items.map((m) => m.body), ['明日往診します']);
  assert.equal(page.json.has_more, true);
  const older = await suzuki.get(`/api/v1/care/conversations/${cid}/messages?limit=1&before=${page.json.items[0].id}`);
  assert.deepEqual(older.json.items.map((m) => m.body), [SECRET]);
  assert.equal(older.json.has_more, false);
  const sent = await suzuki.post(`/api/v1/care/conversations/${cid}/messages`, { body: ' 承知しました ' });
  assert.equal(sent.status, 201, sent.text);
  assert.equal(sent.json.body, '承知しました');
  assert.equal(sent.json.mine, true);

  // Bad input is refused and stores nothing.
  expectError(assert, await suzuki.post(`/api/v1/care/conversations/${cid}/messages`, { body: '  ' }), 400, 'invalid_input');
  expectError(assert, await suzuki.post(`/api/v1/care/conversations/${cid}/messages`, { body: 'あ'.repeat(4001) }), 400, 'invalid_input');
  expectError(assert, await suzuki.post(`/api/v1/care/groups/${gid}/conversations`, { member_ids: [sato.user.id], body: 'x' }), 400, 'invalid_input');
  expectError(assert, await suzuki.post(`/api/v1/care/groups/${gid}/conversations`, { member_ids: 'all', body: 'x' }), 400, 'invalid_input');
  expectError(assert, await suzuki.post(`/api/v1/care/groups/${gid}/conversations`, { member_ids: [], body: 'x' }), 400, 'invalid_input');
  expectError(assert, await suzuki.get(`/api/v1/care/conversations/${cid}/messages?limit=abc`), 400, 'invalid_input');
  const after = await kato.get(`/api/v1/care/conversations/${cid}/messages`);
  assert.equal(after.json.items.length, 3);
  unread = await unreadOf(kato);
  assert.equal(unread.unread_messages, 0, 'opening the conversation read it');

  // The family writes to the nurse; the team can answer.
  const fromFamily = await family.post(`/api/v1/care/groups/${gid}/conversations`, { member_ids: [suzuki.user.id], body: '父の薬について相談です' });
  assert.equal(fromFamily.status, 201, fromFamily.text);
  const familyList = await family.get(`/api/v1/care/groups/${gid}/conversations`);
  assert.deepEqual(familyList.json.items.map((c) => c.id), [fromFamily.json.id], 'the family sees only its own conversation');
  expectError(assert, await family.get(`/api/v1/care/conversations/${cid}/messages`), 404, 'not_found');
  unread = await unreadOf(suzuki);
  assert.equal(unread.unread_messages, 1);

  // Unread posts: the family counts only what was published to them.
  const shared = await kato.post(`/api/v1/care/groups/${gid}/posts`, { kind: 'message', body: '本日往診しました', publish_to_family: true });
  assert.equal(shared.status, 201, shared.text);
  const teamOnly = await kato.post(`/api/v1/care/groups/${gid}/posts`, { kind: 'message', body: '処方変更の予定' });
  assert.equal(teamOnly.status, 201, teamOnly.text);
  unread = await unreadOf(family);
  assert.equal(unread.unread_posts, 1);
  unread = await unreadOf(suzuki);
  assert.equal(unread.unread_posts, 2);
  assert.equal((await suzuki.get(`/api/v1/care/posts/${teamOnly.json.id}`)).status, 200);
  unread = await unreadOf(suzuki);
  assert.equal(unread.unread_posts, 1);

  // Outsiders see nothing.
  expectError(assert, await sato.get(`/api/v1/care/groups/${gid}/conversations`), 403, 'forbidden');
  expectError(assert, await sato.get(`/api/v1/care/conversations/${cid}/messages`), 403, 'forbidden');
  expectError(assert, await sato.get(`/api/v1/care/groups/${gid}/board`), 403, 'forbidden');
  expectError(assert, await sato.get(`/api/v1/care/groups/${gid}/events?from=2026-12-01&to=2026-12-31`), 403, 'forbidden');
  const satoUnread = await sato.get('/api/v1/care/unread');
  assert.deepEqual(satoUnread.json, { groups: [], total_posts: 0, total_messages: 0 });
  expectError(assert, await new Client(server.url).get('/api/v1/care/unread'), 401, 'unauthenticated');

  // --- bulletin board --------------------------------------------------------
  let board = await suzuki.get(`/api/v1/care/groups/${gid}/board`);
  assert.equal(board.status, 200, board.text);
  assert.deepEqual(board.json.items.map((i) => [i.section, i.label]), [
    ['condition', '身体状況'], ['living', '生活状況'], ['care_plan', 'ケアプラン'],
    ['providers', 'サービス提供事業者'], ['memo', 'メモ']]);
  assert.deepEqual(board.json.items[0], {
    section: 'condition', label: '身体状況', body: '', version: 0, updated_by: null, updated_by_name: null, updated_at: null,
  });
  const put = await suzuki.request('PUT', `/api/v1/care/groups/${gid}/board/condition`, { body: SECRET, version: 0 });
  assert.equal(put.status, 200, put.text);
  assert.equal(put.json.version, 1);
  assert.equal(put.json.updated_by, suzuki.user.id);
  assert.equal(put.json.updated_by_name, '鈴木 恵子');
  assert.match(put.json.updated_at, /Z$/);
  // The doctor edited the same version: refused, the nurse's text stays.
  const stale = await kato.request('PUT', `/api/v1/care/groups/${gid}/board/condition`, { body: '別の内容', version: 0 });
  expectError(assert, stale, 409, 'conflict');
  assert.match(stale.json.error.message, /updated by someone else/);
  const next = await kato.request('PUT', `/api/v1/care/groups/${gid}/board/condition`, { body: '解熱しました', version: 1 });
  assert.equal(next.status, 200, next.text);
  assert.equal(next.json.version, 2);
  expectError(assert, await kato.request('PUT', `/api/v1/care/groups/${gid}/board/diagnosis`, { body: 'x', version: 0 }), 404, 'not_found');
  expectError(assert, await kato.request('PUT', `/api/v1/care/groups/${gid}/board/memo`, { body: 'x' }), 400, 'invalid_input');
  expectError(assert, await kato.request('PUT', `/api/v1/care/groups/${gid}/board/memo`, { body: 'a'.repeat(10001), version: 0 }), 400, 'invalid_input');
  board = await kato.get(`/api/v1/care/groups/${gid}/board`);
  assert.equal(board.json.items[0].body, '解熱しました');
  assert.equal(board.json.items[0].updated_by_name, '加藤 誠');
  assert.equal(board.json.items[4].version, 0);
  expectError(assert, await family.get(`/api/v1/care/groups/${gid}/board`), 403, 'forbidden');
  expectError(assert, await family.request('PUT', `/api/v1/care/groups/${gid}/board/memo`, { body: 'x', version: 0 }), 403, 'forbidden');

  // --- shared schedule ---------------------------------------------------------
  const visit = await kato.post(`/api/v1/care/groups/${gid}/events`, {
    title: '訪問診療', kind: 'visit_medical', starts_at: '2026-12-01T10:00:00+09:00', ends_at: '2026-12-01T10:30:00+09:00',
    location: '自宅', note: SECRET,
  });
  assert.equal(visit.status, 201, visit.text);
  assert.equal(visit.json.starts_at, '2026-12-01T01:00:00.000Z');
  assert.equal(visit.json.ends_at, '2026-12-01T01:30:00.000Z');
  assert.equal(visit.json.all_day, false);
  assert.equal(visit.json.kind, 'visit_medical');
  assert.equal(visit.json.created_by_name, '加藤 誠');
  assert.equal(visit.json.updated_by, kato.user.id);
  const stay = await suzuki.post(`/api/v1/care/groups/${gid}/events`, {
    title: 'ショートステイ', kind: 'short_stay', starts_at: '2026-12-03', ends_at: '2026-12-05', all_day: true,
  });
  assert.equal(stay.status, 201, stay.text);
  assert.equal(stay.json.starts_at, '2026-12-03');
  assert.equal(stay.json.ends_at, '2026-12-05');
  // 08:00 on Dec 2 in Japan is still Dec 1 in UTC; it belongs to Dec 2.
  const early = await suzuki.post(`/api/v1/care/groups/${gid}/events`, {
    title: '訪問看護', kind: 'visit_nursing', starts_at: '2026-12-01T23:00:00Z', ends_at: '2026-12-01T23:45:00Z',
  });
  assert.equal(early.status, 201, early.text);

  const week = await family.get(`/api/v1/care/groups/${gid}/events?from=2026-11-29&to=2026-12-05`);
  assert.equal(week.status, 200, week.text);
  assert.deepEqual(week.json.items.map((e) => e.title), ['訪問診療', '訪問看護', 'ショートステイ']);
  const day = await kato.get(`/api/v1/care/groups/${gid}/events?from=2026-12-01&to=2026-12-01`);
  assert.deepEqual(day.json.items.map((e) => e.title), ['訪問診療']);
  const dec2 = await kato.get(`/api/v1/care/groups/${gid}/events?from=2026-12-02&to=2026-12-02`);
  assert.deepEqual(dec2.json.items.map((e) => e.title), ['訪問看護']);
  const iso = await kato.get(`/api/v1/care/groups/${gid}/events?from=${encodeURIComponent('2026-12-01T10:15:00+09:00')}&to=${encodeURIComponent('2026-12-01T12:00:00+09:00')}`);
  assert.deepEqual(iso.json.items.map((e) => e.title), ['訪問診療']);

  // Bad input and family edits are refused and change nothing.
  const badEvents = [
    { title: '', kind: 'other', starts_at: '2026-12-01T10:00:00+09:00', ends_at: '2026-12-01T11:00:00+09:00' },
    { title: 'x', kind: 'visit', starts_at: '2026-12-01T10:00:00+09:00', ends_at: '2026-12-01T11:00:00+09:00' },
    { title: 'x', kind: 'other', starts_at: '2026-12-01T10:00:00', ends_at: '2026-12-01T11:00:00+09:00' },
    { title: 'x', kind: 'other', starts_at: '2026-12-01T11:00:00+09:00', ends_at: '2026-12-01T10:00:00+09:00' },
    { title: 'x', kind: 'other', starts_at: '2026-12-01T10:00:00+09:00', ends_at: '2026-12-01', all_day: true },
    { title: 'x'.repeat(201), kind: 'other', starts_at: '2026-12-01', ends_at: '2026-12-01', all_day: true },
  ];
  for (const body of badEvents) {
    expectError(assert, await kato.post(`/api/v1/care/groups/${gid}/events`, body), 400, 'invalid_input');
  }
  expectError(assert, await kato.get(`/api/v1/care/groups/${gid}/events?from=2026-01-01&to=2026-12-31`), 400, 'invalid_input');
  expectError(assert, await kato.get(`/api/v1/care/groups/${gid}/events?from=2026-12-31&to=2026-12-01`), 400, 'invalid_input');
  expectError(assert, await kato.get(`/api/v1/care/groups/${gid}/events`), 400, 'invalid_input');
  const familyEvent = { title: '家族の面会', kind: 'other', starts_at: '2026-12-02', ends_at: '2026-12-02', all_day: true };
  expectError(assert, await family.post(`/api/v1/care/groups/${gid}/events`, familyEvent), 403, 'forbidden');
  expectError(assert, await family.request('PUT', `/api/v1/care/events/${visit.json.id}`, familyEvent), 403, 'forbidden');
  expectError(assert, await family.request('DELETE', `/api/v1/care/events/${visit.json.id}`), 403, 'forbidden');
  const month = await kato.get(`/api/v1/care/groups/${gid}/events?from=2026-11-29&to=2027-01-09`);
  assert.equal(month.json.items.length, 3);

  // Members edit and delete.
  const moved = await suzuki.request('PUT', `/api/v1/care/events/${visit.json.id}`, {
    title: '訪問診療（時間変更）', kind: 'visit_medical', starts_at: '2026-12-01T14:00:00+09:00', ends_at: '2026-12-01T14:30:00+09:00',
  });
  assert.equal(moved.status, 200, moved.text);
  assert.equal(moved.json.title, '訪問診療（時間変更）');
  assert.equal(moved.json.created_by, kato.user.id);
  assert.equal(moved.json.updated_by_name, '鈴木 恵子');
  assert.equal(moved.json.note, '');
  const removed = await kato.request('DELETE', `/api/v1/care/events/${early.json.id}`);
  assert.equal(removed.status, 204, removed.text);
  expectError(assert, await kato.request('DELETE', `/api/v1/care/events/${early.json.id}`), 404, 'not_found');
  const afterEdits = await kato.get(`/api/v1/care/groups/${gid}/events?from=2026-11-29&to=2026-12-05`);
  assert.deepEqual(afterEdits.json.items.map((e) => e.title), ['訪問診療（時間変更）', 'ショートステイ']);

  // --- leaving ends access -----------------------------------------------------
  const itoTalk = await ito.post(`/api/v1/care/groups/${gid}/conversations`, { member_ids: [kato.user.id], body: 'ケアプランを更新しました' });
  assert.equal(itoTalk.status, 201, itoTalk.text);
  assert.equal((await ito.get(`/api/v1/care/groups/${gid}/board`)).status, 200);
  const left = await ito.request('DELETE', `/api/v1/care/groups/${gid}/members/${ito.user.id}`);
  assert.equal(left.status, 204, left.text);
  expectError(assert, await ito.get(`/api/v1/care/conversations/${itoTalk.json.id}/messages`), 403, 'forbidden');
  expectError(assert, await ito.get(`/api/v1/care/groups/${gid}/board`), 403, 'forbidden');
  expectError(assert, await ito.get(`/api/v1/care/groups/${gid}/events?from=2026-12-01&to=2026-12-07`), 403, 'forbidden');
  assert.equal(await unreadOf(ito), undefined, 'the group is gone from the home page');
  const katoList = await kato.get(`/api/v1/care/groups/${gid}/conversations`);
  const withIto = katoList.json.items.find((c) => c.id === itoTalk.json.id);
  assert.equal(withIto.participants.find((p) => p.user_id === ito.user.id).member, false);
  expectError(assert, await kato.post(`/api/v1/care/conversations/${itoTalk.json.id}/messages`, { body: 'x' }), 409, 'conflict');

  // --- an archived group is read-only -------------------------------------------
  const archived = await kato.post(`/api/v1/care/groups/${gid}/archive`);
  assert.equal(archived.status, 200, archived.text);
  expectError(assert, await suzuki.post(`/api/v1/care/conversations/${cid}/messages`, { body: 'x' }), 409, 'conflict');
  expectError(assert, await suzuki.request('PUT', `/api/v1/care/groups/${gid}/board/memo`, { body: 'x', version: 0 }), 409, 'conflict');
  expectError(assert, await suzuki.post(`/api/v1/care/groups/${gid}/events`, familyEvent), 409, 'conflict');
  expectError(assert, await suzuki.request('DELETE', `/api/v1/care/events/${stay.json.id}`), 409, 'conflict');
  assert.equal((await suzuki.get(`/api/v1/care/conversations/${cid}/messages`)).status, 200);
  assert.equal((await suzuki.get(`/api/v1/care/groups/${gid}/board`)).status, 200);
  assert.equal((await suzuki.get(`/api/v1/care/groups/${gid}/events?from=2026-12-01&to=2026-12-07`)).json.items.length, 2);

  // --- everything was audited under the patient, without the words ------------
  const items = [];
  for (const prefix of ['care.message.', 'care.board.', 'care.schedule.']) {
    const audit = await admin.get(`/api/v1/audit?action=${prefix}&patient_id=${rid}&limit=200`);
    assert.equal(audit.status, 200, audit.text);
    assert.ok(audit.json.items.length < 200, 'one page holds them all');
    for (const word of ['発熱', '往診します', '薬について', '訪問診療', '解熱', 'ケアプランを']) {
      assert.ok(!audit.text.includes(word), `the audit trail does not carry "${word}"`);
    }
    items.push(...audit.json.items);
  }
  const actions = new Set(items.map((e) => e.action));
  for (const a of ['care.message.start', 'care.message.list', 'care.message.read', 'care.message.send',
                   'care.board.read', 'care.board.update', 'care.schedule.read', 'care.schedule.create',
                   'care.schedule.update', 'care.schedule.delete']) {
    assert.ok(actions.has(a), `audited ${a}`);
  }
  const deniedBoard = items.filter((e) => e.outcome === 'denied' && e.action === 'care.board.read');
  assert.ok(deniedBoard.some((e) => e.user_id === family.user.id), 'the family\'s refused board read is audited');
  assert.ok(deniedBoard.some((e) => e.user_id === sato.user.id), 'the outsider\'s refused board read is audited');
  const objects = items.map((e) => e.object);
  assert.ok(objects.includes(`care_conversation:${cid}`));
  assert.ok(objects.includes(`care_board:${gid}/condition`));
  assert.ok(objects.includes(`care_event:${visit.json.id}`));
});
