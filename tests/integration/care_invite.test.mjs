// Inviting people without an account into a care group by e-mail, through a
// real SMTP server: the patient's daughter (family) and a home helper of a
// care business that does not take part in the network. Uses the demo team
// of 山田ハナ様 (dr.kato's clinic; care-team and family consents).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, Client, expectError } from './harness.mjs';
import { startSmtp, decodeMail } from './smtp.mjs';

let server;
let smtp;

before(async () => {
  smtp = await startSmtp();
  server = await startServer({ extraArgs: ['--smtp-url', smtp.url, '--smtp-from',
    'つなぐ事務局 <noreply@tsunagu.example.jp>', '--public-url', 'https://tsunagu.example.jp'] });
});
after(async () => {
  await server?.stop();
  await smtp?.stop();
});

async function demoGroup(client) {
  const groups = await client.get('/api/v1/care/groups');
  assert.equal(groups.status, 200, groups.text);
  const group = groups.json.items.find((g) => g.name === '山田ハナ様 在宅療養チーム');
  assert.ok(group, 'the demo care group');
  return group;
}

function tokenFrom(mail) {
  const m = /https:\/\/tsunagu\.example\.jp\/care\/invitations\/([A-Za-z0-9_-]+)/.exec(mail.body);
  assert.ok(m, 'link in the mail: ' + mail.body);
  return m[1];
}

test('a family member is invited by mail, accepts and sees only what is published to the family', async () => {
  const kato = new Client(server.url);
  assert.equal((await kato.login('dr.kato')).status, 200);
  const group = await demoGroup(kato);

  const invited = await kato.post(`/api/v1/care/groups/${group.id}/invitations`, {
    email: 'son@family.example.jp', display_name: '山田 健太', occupation: 'family' });
  assert.equal(invited.status, 201, invited.text);
  assert.equal(invited.json.status, 'pending');

  const mails = (await smtp.waitFor(1)).map(decodeMail).filter((m) => m.to === 'son@family.example.jp');
  assert.equal(mails.length, 1, 'one invitation mail');
  const mail = mails[0];
  assert.match(mail.subject, /招待/);
  assert.ok(mail.body.includes('加藤 誠'), 'names the inviter');
  for (const medical of ['山田ハナ', '在宅療養チーム', '血圧', '残薬', 'アムロジピン', '庭の花']) {
    assert.ok(!mail.body.includes(medical), `no medical content (${medical})`);
  }
  const token = tokenFrom(mail);

  const anon = new Client(server.url);
  const seen = await anon.get(`/api/v1/care/invitations/by-token/${token}`);
  assert.equal(seen.status, 200, seen.text);
  assert.equal(seen.json.group_name, '山田ハナ様 在宅療養チーム');
  assert.equal(seen.json.display_name, '山田 健太');

  expectError(assert, await anon.post(`/api/v1/care/invitations/by-token/${token}/accept`,
    { login_id: 'kenta.yamada', password: 'short' }), 400);
  const accepted = await anon.post(`/api/v1/care/invitations/by-token/${token}/accept`,
    { login_id: 'kenta.yamada', password: 'a long family passphrase' });
  assert.equal(accepted.status, 201, accepted.text);
  assert.equal(accepted.json.group_id, group.id);
  // The link works once.
  expectError(assert, await anon.get(`/api/v1/care/invitations/by-token/${token}`), 404);

  const son = new Client(server.url);
  assert.equal((await son.login('kenta.yamada', 'a long family passphrase')).status, 200);
  const posts = await son.get(`/api/v1/care/groups/${group.id}/posts?limit=50`);
  assert.equal(posts.status, 200, posts.text);
  assert.ok(posts.json.items.length >= 1, 'the post published to the family');
  assert.ok(posts.json.items.every((p) => p.publish_to_family), 'only posts published to the family');
  // A family member has no clinical access and cannot invite.
  expectError(assert, await son.post(`/api/v1/care/groups/${group.id}/invitations`, {
    email: 'x@example.jp', display_name: 'x', occupation: 'family' }), 403);
});

test('a home helper of a non-participating business joins with a facility record of their own', async () => {
  const kato = new Client(server.url);
  assert.equal((await kato.login('dr.kato')).status, 200);
  const group = await demoGroup(kato);
  const before = smtp.messages().length;

  // Bad input is refused and nothing is sent.
  expectError(assert, await kato.post(`/api/v1/care/groups/${group.id}/invitations`, {
    email: 'not-an-address', display_name: '佐々木 花子', occupation: 'home_helper',
    organization: { name: 'ひまわり訪問介護', kana: 'ヒマワリホウモンカイゴ', type: 'home_care_support_office' } }), 400);
  expectError(assert, await kato.post(`/api/v1/care/groups/${group.id}/invitations`, {
    email: 'helper@himawari.example.jp', display_name: '佐々木 花子', occupation: 'home_helper' }), 400);
  expectError(assert, await kato.post('/api/v1/care/groups/999999/invitations', {
    email: 'helper@himawari.example.jp', display_name: '佐々木 花子', occupation: 'family' }), 404);

  const invited = await kato.post(`/api/v1/care/groups/${group.id}/invitations`, {
    email: 'helper@himawari.example.jp', display_name: '佐々木 花子', occupation: 'home_helper',
    organization: { name: 'ひまわり訪問介護', kana: 'ヒマワリホウモンカイゴ', type: 'home_care_support_office' } });
  assert.equal(invited.status, 201, invited.text);
  const mails = (await smtp.waitFor(before + 1)).map(decodeMail)
    .filter((m) => m.to === 'helper@himawari.example.jp');
  assert.equal(mails.length, 1);
  const token = tokenFrom(mails[0]);

  const anon = new Client(server.url);
  const accepted = await anon.post(`/api/v1/care/invitations/by-token/${token}/accept`,
    { login_id: 'sasaki.himawari', password: 'himawari helper 2026' });
  assert.equal(accepted.status, 201, accepted.text);

  const helper = new Client(server.url);
  assert.equal((await helper.login('sasaki.himawari', 'himawari helper 2026')).status, 200);
  const me = await helper.get('/api/v1/auth/me');
  assert.equal(me.status, 200, me.text);
  const post = await helper.post(`/api/v1/care/groups/${group.id}/posts`, {
    kind: 'message', body: '本日の訪問介護で入浴介助を行いました。' });
  assert.equal(post.status, 201, post.text);

  const list = await kato.get(`/api/v1/care/groups/${group.id}/invitations`);
  assert.equal(list.status, 200, list.text);
  const mine = list.json.items.find((i) => i.email === 'helper@himawari.example.jp');
  assert.equal(mine.status, 'accepted');
  assert.equal(mine.organization_name, 'ひまわり訪問介護');
});
