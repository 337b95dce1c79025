// The care SNS API as a family doctor and a nurse use it: a care group for
// one of the clinic's patients, a templated "today's status" post with vital
// signs, an out-of-range blood pressure refused, a comment,
// Japanese free-word search, drafts, deletion, and a non-member refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { startServer, Client, expectError } from './harness.mjs';

let server;

// One session per user and server: a second TOTP login within the same
// 30-second step would be refused as a replay.
const sessions = new Map();
async function loginAs(url, login) {
  const key = `${url} ${login}`;
  if (!sessions.has(key)) {
    const client = new Client(url);
    const r = await client.login(login);
    assert.equal(r.status, 200, r.text);
    sessions.set(key, client);
  }
  return sessions.get(key);
}

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
  const admin = await loginAs(server.url, 'admin');
  const audit = await admin.get(`/api/v1/audit?action=care.&patient_id=${patient.regional_id}&limit=100`);
  assert.equal(audit.status, 200, audit.text);
  assert.ok(audit.json.items.length >= 5);
  assert.ok(!audit.text.includes('食欲'));
});

// --- files and photos, pins, filters, cross-group search, time series -------

const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]), Buffer.from('JFIF 残薬の写真')]);
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n');
const EXE = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(62, 0x90), Buffer.from('This program cannot be run in DOS mode')]);

function form(post, files = []) {
  const f = new FormData();
  f.append('post', JSON.stringify(post));
  for (const { name, type, bytes } of files) f.append('file', new Blob([bytes], { type }), name);
  return f;
}

function upload(client, gid, post, files) {
  return client.request('POST', `/api/v1/care/groups/${gid}/posts`, form(post, files), { raw: true });
}

function blobCount(dir) {
  const root = path.join(dir, 'blobs', 'care');
  if (!existsSync(root)) return 0;
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && !e.name.startsWith('.tmp')).length;
}

async function demoTeam(url) {
  const clients = {};
  for (const login of ['dr.kato', 'ns.suzuki', 'family.yamada', 'admin']) {
    clients[login] = await loginAs(url, login);
  }
  const groups = await clients['ns.suzuki'].get('/api/v1/care/groups');
  assert.equal(groups.status, 200, groups.text);
  const group = groups.json.items.find((g) => g.name === '山田ハナ様 在宅療養チーム');
  assert.ok(group, 'the demo care team exists');
  return { ...clients, gid: group.id };
}

test('photo and file posts upload in one request; files are served to the post audience only', async () => {
  const team = await demoTeam(server.url);
  const suzuki = team['ns.suzuki'], kato = team['dr.kato'], family = team['family.yamada'];
  const before = blobCount(server.dir);

  const photo = await upload(suzuki, team.gid, { kind: 'photo', body: '残薬を撮影しました' }, [
    { name: '残薬.jpg', type: 'image/jpeg', bytes: JPEG },
    { name: '薬剤情報.pdf', type: 'application/pdf', bytes: PDF },
  ]);
  assert.equal(photo.status, 201, photo.text);
  assert.equal(photo.json.kind, 'photo');
  assert.equal(photo.json.attachments.length, 2);
  const [image, pdf] = photo.json.attachments;
  assert.deepEqual(Object.keys(image).sort(), ['content_type', 'file_name', 'id', 'kind', 'size']);
  assert.equal(image.file_name, '残薬.jpg');
  assert.equal(image.content_type, 'image/jpeg');
  assert.equal(image.kind, 'image');
  assert.equal(image.size, JPEG.length);
  assert.equal(pdf.kind, 'pdf');
  assert.equal(blobCount(server.dir), before + 2);

  // Download: type from the content, inline for images, RFC 5987 name, no caching.
  const got = await fetch(`${server.url}/api/v1/care/files/${image.id}`, { headers: { cookie: kato.cookie } });
  assert.equal(got.status, 200);
  assert.equal(got.headers.get('content-type'), 'image/jpeg');
  assert.equal(got.headers.get('content-disposition'),
               `inline; filename="__.jpg"; filename*=UTF-8''${encodeURIComponent('残薬.jpg')}`);
  assert.equal(got.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(got.headers.get('cache-control'), 'private, no-store');
  assert.deepEqual(Buffer.from(await got.arrayBuffer()), JPEG);
  const forced = await kato.get(`/api/v1/care/files/${image.id}?download=1`);
  assert.equal(forced.status, 200);
  assert.match(forced.headers.get('content-disposition'), /^attachment; /);

  // Not published to the family: the family gets a 404; outsiders no access.
  expectError(assert, await family.get(`/api/v1/care/files/${image.id}`), 404);
  const outsider = new Client(server.url);
  assert.equal((await outsider.login('dr.sato')).status, 200);
  const denied = await outsider.get(`/api/v1/care/files/${image.id}`);
  assert.ok([403, 404].includes(denied.status), denied.text);
  expectError(assert, await kato.get('/api/v1/care/files/999999'), 404);

  // The post lists its files in the timeline and on the post screen.
  const opened = await kato.get(`/api/v1/care/posts/${photo.json.id}`);
  assert.equal(opened.status, 200, opened.text);
  assert.deepEqual(opened.json.attachments.map((a) => a.id), [image.id, pdf.id]);
  assert.deepEqual(opened.json.pins, []);

  // A status post carries a photo and is published to the family, who may open it.
  const status = await upload(suzuki, team.gid,
    { kind: 'status', values: { 'medication.leftover': '2錠' }, publish_to_family: true },
    [{ name: 'IMG_0002.jpg', type: 'image/jpeg', bytes: JPEG }]);
  assert.equal(status.status, 201, status.text);
  const shared = await family.get(`/api/v1/care/files/${status.json.attachments[0].id}`);
  assert.equal(shared.status, 200, shared.text);

  // A file post: the body is optional; Office documents are recognised by content.
  const file = await upload(suzuki, team.gid, { kind: 'file', title: '訪問看護計画書' },
    [{ name: 'plan.pdf', type: 'application/octet-stream', bytes: PDF }]);
  assert.equal(file.status, 201, file.text);
  const fileGot = await kato.get(`/api/v1/care/files/${file.json.attachments[0].id}`);
  assert.equal(fileGot.headers.get('content-type'), 'application/pdf');
  assert.match(fileGot.headers.get('content-disposition'), /^inline; filename="plan.pdf"/);

  // Deleted posts' files are no longer served.
  assert.equal((await suzuki.request('DELETE', `/api/v1/care/posts/${photo.json.id}`)).status, 204);
  expectError(assert, await kato.get(`/api/v1/care/files/${image.id}`), 404);

  const audit = await team.admin.get(`/api/v1/audit?action=care.file.read&limit=50`);
  assert.equal(audit.status, 200, audit.text);
  assert.ok(audit.json.items.some((e) => e.object === `care_file:${image.id}` && e.outcome === 'success'));
  assert.ok(!audit.text.includes('残薬'));
});

test('refused uploads store neither a post nor a blob', async () => {
  const team = await demoTeam(server.url);
  const suzuki = team['ns.suzuki'];
  const posts = async () => (await suzuki.get(`/api/v1/care/groups/${team.gid}/posts?limit=100`)).json.items.length;
  const postsBefore = await posts();
  const blobsBefore = blobCount(server.dir);

  const exe = await upload(suzuki, team.gid, { kind: 'photo' }, [
    { name: 'ok.jpg', type: 'image/jpeg', bytes: Buffer.concat([JPEG, Buffer.from('unique-1')]) },
    { name: 'photo.jpg', type: 'image/jpeg', bytes: EXE },
  ]);
  expectError(assert, exe, 400, 'invalid_input');
  assert.equal(exe.json.error.message, 'file type not allowed');
  const fake = await upload(suzuki, team.gid, { kind: 'file' }, [{ name: 'scan.jpg', type: 'image/jpeg', bytes: PDF }]);
  expectError(assert, fake, 400);
  assert.match(fake.json.error.message, /not an image/);
  expectError(assert, await upload(suzuki, team.gid, { kind: 'photo' }, [{ name: 'a.pdf', type: 'application/pdf', bytes: PDF }]), 400);
  expectError(assert, await upload(suzuki, team.gid, { kind: 'file' }, []), 400);
  const eleven = Array.from({ length: 11 }, (_, i) => ({ name: `p${i}.jpg`, type: 'image/jpeg', bytes: JPEG }));
  const tooMany = await upload(suzuki, team.gid, { kind: 'photo' }, eleven);
  expectError(assert, tooMany, 400);
  assert.match(tooMany.json.error.message, /at most 10 files/);
  // A bad template value fails after the files were read: still nothing stored.
  expectError(assert, await upload(suzuki, team.gid,
    { kind: 'status', values: { 'vital.bp_systolic': 400, 'vital.bp_diastolic': 10 } },
    [{ name: 'a.jpg', type: 'image/jpeg', bytes: Buffer.concat([JPEG, Buffer.from('unique-2')]) }]), 400);

  // Malformed multipart bodies.
  const boundary = 'XyZ123';
  const broken = await suzuki.request('POST', `/api/v1/care/groups/${team.gid}/posts`,
    `--${boundary}\r\nContent-Disposition: form-data; name="post"\r\n\r\n{"kind":"message","body":"x"}\r\n`,
    { raw: true, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } });
  expectError(assert, broken, 400, 'invalid_input');
  const noBoundary = await suzuki.request('POST', `/api/v1/care/groups/${team.gid}/posts`, 'abc',
    { raw: true, headers: { 'content-type': 'multipart/form-data' } });
  expectError(assert, noBoundary, 400);
  const noPost = await suzuki.request('POST', `/api/v1/care/groups/${team.gid}/posts`,
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n\r\nxx\r\n--${boundary}--\r\n`,
    { raw: true, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } });
  expectError(assert, noPost, 400);

  // The family cannot post files either.
  const family = team['family.yamada'];
  const byFamily = await upload(family, team.gid, { kind: 'photo' }, [{ name: 'a.jpg', type: 'image/jpeg', bytes: JPEG }]);
  expectError(assert, byFamily, 403);

  assert.equal(await posts(), postsBefore);
  assert.equal(blobCount(server.dir), blobsBefore);
});

test('files over the configured size answer 413 and nothing is stored', async () => {
  const small = await startServer({ extraArgs: ['--care-file-max-mb', '1'] });
  try {
    const team = await demoTeam(small.url);
    const suzuki = team['ns.suzuki'];
    const big = Buffer.concat([JPEG, Buffer.alloc(1024 * 1024 + 10, 0x20)]);
    const r = await upload(suzuki, team.gid, { kind: 'photo' }, [
      { name: 'a.jpg', type: 'image/jpeg', bytes: JPEG },
      { name: 'big.jpg', type: 'image/jpeg', bytes: big },
    ]);
    expectError(assert, r, 413);
    // Over the route's body limit (10 files of 1 MB and the post): refused before reading.
    const huge = Buffer.concat([JPEG, Buffer.alloc(11 * 1024 * 1024, 0x20)]);
    const r2 = await upload(suzuki, team.gid, { kind: 'photo' }, [{ name: 'huge.jpg', type: 'image/jpeg', bytes: huge }]);
    assert.equal(r2.status, 413, r2.text);
    assert.equal(blobCount(small.dir), 0);
    const ok = await upload(suzuki, team.gid, { kind: 'photo' }, [{ name: 'a.jpg', type: 'image/jpeg', bytes: JPEG }]);
    assert.equal(ok.status, 201, ok.text);
    assert.equal(blobCount(small.dir), 1);
  } finally {
    await small.stop();
  }
});

test('pins, timeline filters, cross-group search and the vital-sign series', async () => {
  const team = await demoTeam(server.url);
  const kato = team['dr.kato'], suzuki = team['ns.suzuki'], family = team['family.yamada'];
  const timeline = await suzuki.get(`/api/v1/care/groups/${team.gid}/posts?limit=100`);
  assert.equal(timeline.status, 200, timeline.text);
  const visit = timeline.json.items.find((p) => p.title === '訪問看護 定期訪問');
  assert.ok(visit, 'the demo visit post');
  assert.deepEqual(visit.pins, []);

  // Pins: private colour labels.
  const pinned = await suzuki.request('PUT', `/api/v1/care/posts/${visit.id}/pins`, { colors: ['blue', 'red'] });
  assert.equal(pinned.status, 200, pinned.text);
  assert.deepEqual(pinned.json, { colors: ['red', 'blue'] });
  const red = await suzuki.get(`/api/v1/care/groups/${team.gid}/posts?pin=red`);
  assert.deepEqual(red.json.items.map((p) => p.id), [visit.id]);
  assert.deepEqual(red.json.items[0].pins, ['red', 'blue']);
  const katoRed = await kato.get(`/api/v1/care/groups/${team.gid}/posts?pin=red`);
  assert.deepEqual(katoRed.json.items, [], 'pins are private');
  expectError(assert, await suzuki.request('PUT', `/api/v1/care/posts/${visit.id}/pins`, { colors: ['pink'] }), 400);
  expectError(assert, await suzuki.request('PUT', `/api/v1/care/posts/${visit.id}/pins`, {}), 400);
  expectError(assert, await suzuki.get(`/api/v1/care/groups/${team.gid}/posts?pin=pink`), 400);
  const cleared = await suzuki.request('PUT', `/api/v1/care/posts/${visit.id}/pins`, { colors: [] });
  assert.deepEqual(cleared.json, { colors: [] });

  // Filters: author, occupation, dates (Japan time), combinable.
  const me = await suzuki.get('/api/v1/auth/me');
  const suzukiId = me.json.user?.id ?? me.json.id;
  assert.ok(suzukiId, me.text);
  const byAuthor = await kato.get(`/api/v1/care/groups/${team.gid}/posts?author=${suzukiId}&limit=100`);
  assert.equal(byAuthor.status, 200, byAuthor.text);
  assert.ok(byAuthor.json.items.length >= 1);
  assert.ok(byAuthor.json.items.every((p) => p.author_id === suzukiId));
  const nurses = await kato.get(`/api/v1/care/groups/${team.gid}/posts?occupation=visiting_nurse&limit=100`);
  assert.deepEqual(nurses.json.items.map((p) => p.id), byAuthor.json.items.map((p) => p.id));
  const pharmacists = await kato.get(`/api/v1/care/groups/${team.gid}/posts?occupation=pharmacist`);
  assert.ok(pharmacists.json.items.some((p) => p.title === '訪問服薬指導'), pharmacists.text);
  assert.ok(pharmacists.json.items.every((p) => p.author_id !== suzukiId));
  const today = new Date(Date.now() + 9 * 3600e3).toISOString().slice(0, 10);
  const inRange = await kato.get(`/api/v1/care/groups/${team.gid}/posts?from=2020-01-01&to=${today}&author=${suzukiId}`);
  assert.ok(inRange.json.items.some((p) => p.id === visit.id), inRange.text);
  const before = await kato.get(`/api/v1/care/groups/${team.gid}/posts?to=2020-01-01`);
  assert.deepEqual(before.json.items, []);
  for (const bad of ['from=2026-02-30', 'to=2026/01/01', 'from=2026-01-05&to=2026-01-04', 'occupation=wizard', 'author=abc', 'author=0']) {
    expectError(assert, await kato.get(`/api/v1/care/groups/${team.gid}/posts?${bad}`), 400, 'invalid_input');
  }

  // Search across every group of the user, with the group's name.
  const found = await kato.get(`/api/v1/care/search?q=${encodeURIComponent('アムロジピン')}&limit=30&offset=0`);
  assert.equal(found.status, 200, found.text);
  assert.equal(found.json.items.length, 1);
  assert.equal(found.json.items[0].group_name, '山田ハナ様 在宅療養チーム');
  assert.equal(found.json.items[0].title, '訪問服薬指導');
  assert.ok('read_count' in found.json.items[0] && 'pins' in found.json.items[0]);
  const familyFound = await family.get(`/api/v1/care/search?q=${encodeURIComponent('アムロジピン')}`);
  assert.deepEqual(familyFound.json.items, [], 'the family sees only posts published to them');
  const familyVisit = await family.get(`/api/v1/care/search?q=${encodeURIComponent('庭の花')}`);
  assert.deepEqual(familyVisit.json.items.map((p) => p.id), [visit.id]);
  expectError(assert, await kato.get('/api/v1/care/search'), 400);
  expectError(assert, await kato.get('/api/v1/care/search?q=x&limit=500'), 400);
  const searches = await team.admin.get('/api/v1/audit?action=care.post.search&limit=100');
  assert.ok(searches.json.items.some((e) => e.object === 'care_search'));
  assert.ok(!searches.text.includes('アムロジピン'));

  // Time series of numeric template items, oldest first.
  const series = await kato.get(`/api/v1/care/groups/${team.gid}/series?items=vital.bp_systolic,vital.bp_diastolic&from=2020-01-01&to=${today}`);
  assert.equal(series.status, 200, series.text);
  assert.equal(series.json.items.length, 2);
  const [sys, dia] = series.json.items;
  assert.equal(sys.item, 'vital.bp_systolic');
  assert.equal(sys.unit, 'mmHg');
  assert.equal(sys.type, 'integer');
  assert.ok(sys.label.length > 0);
  const point = sys.points.find((p) => p.post_id === visit.id);
  assert.ok(point, series.text);
  assert.equal(point.value, 138);
  assert.match(point.at, /^\d{4}-\d\d-\d\dT/);
  assert.equal(dia.points.find((p) => p.post_id === visit.id).value, 82);
  const times = sys.points.map((p) => p.at);
  assert.deepEqual(times, [...times].sort(), 'oldest first');
  const familySeries = await family.get(`/api/v1/care/groups/${team.gid}/series?items=vital.temperature`);
  assert.equal(familySeries.status, 200, familySeries.text);
  assert.equal(familySeries.json.items[0].points.find((p) => p.post_id === visit.id).value, 36.6);
  expectError(assert, await kato.get(`/api/v1/care/groups/${team.gid}/series?items=note.text`), 400);
  expectError(assert, await kato.get(`/api/v1/care/groups/${team.gid}/series?items=vital.pulse&from=yesterday`), 400);
  expectError(assert, await kato.get(`/api/v1/care/groups/${team.gid}/series`), 400);
  const seriesAudit = await team.admin.get('/api/v1/audit?action=care.series.read&limit=20');
  assert.ok(seriesAudit.json.items.length >= 2);
});
