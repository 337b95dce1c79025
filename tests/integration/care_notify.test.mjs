// Care SNS notifications against the real binary: a member's open WebSocket
// gets the new post within a second (ids and names only), and mail goes
// through a real SMTP server (aiosmtpd from Debian) on 127.0.0.1, at once or
// as a digest, naming the group and linking to it without the post's words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import os from 'node:os';
import { bin, startServer, Client, expectError } from './harness.mjs';
import { startSmtp } from './smtp.mjs';

const PUBLIC_URL = 'https://tsunagu.example.jp';
const SECRET = '夜間の咳が増えて血圧168/96';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(fn, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (Array.isArray(v) ? v.length : v) return v;
    if (Date.now() > deadline) return v;
    await sleep(50);
  }
}

// A minimal WebSocket client (RFC 6455) over node:net, so that the test needs
// no flag or package: text frames in, pings answered, masked frames out.
function openWebSocket(port, cookie) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const messages = [];
    let waiter = null;
    let buf = Buffer.alloc(0);
    let open = false;
    const send = (opcode, payload) => {
      const mask = randomBytes(4);
      const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]));
      sock.write(Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | payload.length]), mask, masked]));
    };
    const api = {
      messages,
      next(timeoutMs) {
        if (messages.length) return Promise.resolve(messages.shift());
        return new Promise((res, rej) => {
          const t = setTimeout(() => { waiter = null; rej(new Error('no WebSocket message')); }, timeoutMs);
          waiter = (m) => { clearTimeout(t); waiter = null; res(m); };
        });
      },
      close() { sock.destroy(); },
    };
    sock.on('connect', () => {
      sock.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
        `Connection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n` +
        `Sec-WebSocket-Version: 13\r\nCookie: ${cookie}\r\n\r\n`);
    });
    sock.on('error', (e) => { if (!open) reject(e); });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (!open) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString();
        if (!head.startsWith('HTTP/1.1 101')) { sock.destroy(); reject(new Error(head)); return; }
        open = true;
        buf = buf.subarray(end + 4);
        resolve(api);
      }
      for (;;) {
        if (buf.length < 2) return;
        const opcode = buf[0] & 0x0f;
        let len = buf[1] & 0x7f;
        let off = 2;
        if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
        if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); off = 10; }
        if (buf.length < off + len) return;
        const payload = buf.subarray(off, off + len);
        buf = buf.subarray(off + len);
        if (opcode === 1) {
          const m = { text: payload.toString('utf8'), at: Date.now() };
          if (waiter) waiter(m); else messages.push(m);
        } else if (opcode === 9) {
          send(0xa, [...payload]);
        } else if (opcode === 8) {
          sock.end();
        }
      }
    });
  });
}

// dr.kato's group for one of the clinic's patients, with ns.suzuki (a
// visiting nurse of another facility, covered by a care-team consent).
async function makeTeam(server) {
  const kato = new Client(server.url);
  assert.equal((await kato.login('dr.kato')).status, 200);
  const suzuki = new Client(server.url);
  const login = await suzuki.login('ns.suzuki');
  assert.equal(login.status, 200, login.text);
  const patients = await kato.get('/api/v1/patients?limit=20');
  assert.equal(patients.status, 200, patients.text);
  for (const patient of patients.json.items) {
    const name = `${patient.name}さんの在宅チーム`;
    const group = await kato.post('/api/v1/care/groups', { regional_id: patient.regional_id, name });
    if (group.status !== 201) continue;  // the patient may already have a group
    const consent = await kato.post(`/api/v1/patients/${patient.regional_id}/consents`,
      { scope: 'care_team', valid_from: '2025-01-01', note: '在宅療養チームでの共有に同意' });
    assert.equal(consent.status, 201, consent.text);
    const added = await kato.post(`/api/v1/care/groups/${group.json.id}/members`, { user_id: login.json.user.id });
    assert.equal(added.status, 201, added.text);
    return { kato, suzuki, suzukiId: login.json.user.id, gid: group.json.id, name };
  }
  throw new Error('no patient without a care group');
}

const smtpArgs = (smtp) => ['--smtp-url', `smtp://127.0.0.1:${smtp.port}`,
  '--smtp-from', 'つなぐ <noreply@tsunagu.example.jp>', '--public-url', PUBLIC_URL];

test('a new post reaches the member live within a second and by mail, without its words', async () => {
  const smtp = await startSmtp();
  const server = await startServer({ extraArgs: smtpArgs(smtp) });
  let ws;
  try {
    const { kato, suzuki, suzukiId, gid, name } = await makeTeam(server);
    const settings = await suzuki.get('/api/v1/care/notification-settings');
    assert.equal(settings.status, 200, settings.text);
    assert.deepEqual(settings.json, { email: 'immediate', address_known: true });

    ws = await openWebSocket(server.port, suzuki.cookie);
    const sent = Date.now();
    const post = await kato.post(`/api/v1/care/groups/${gid}/posts`,
      { kind: 'message', title: '往診報告', body: SECRET });
    assert.equal(post.status, 201, post.text);
    const frame = await ws.next(1000);
    assert.ok(frame.at - sent < 1000, `frame after ${frame.at - sent} ms`);
    const event = JSON.parse(frame.text);
    assert.equal(event.type, 'care.post');
    assert.equal(event.group_id, gid);
    assert.equal(event.group_name, name);
    assert.equal(event.post_id, post.json.id);
    assert.equal(event.actor_name, '加藤 誠');
    assert.ok(!frame.text.includes('咳') && !frame.text.includes('往診報告'), frame.text);

    // The member's comment reaches the author's browser too.
    const kws = await openWebSocket(server.port, kato.cookie);
    try {
      const comment = await suzuki.post(`/api/v1/care/posts/${post.json.id}/comments`, { body: '了解しました' });
      assert.equal(comment.status, 201, comment.text);
      const c = JSON.parse((await kws.next(1000)).text);
      assert.equal(c.type, 'care.comment');
      assert.equal(c.comment_id, comment.json.id);
    } finally {
      kws.close();
    }

    // A direct message: live to the other participant, and mailed.
    const conversation = await kato.post(`/api/v1/care/groups/${gid}/conversations`,
      { member_ids: [suzukiId], body: '明日の往診は14時でよろしいですか' });
    assert.equal(conversation.status, 201, conversation.text);
    const m = JSON.parse((await ws.next(1000)).text);
    assert.equal(m.type, 'care.message');
    assert.equal(m.group_id, gid);
    assert.equal(m.conversation_id, conversation.json.id);
    assert.equal(typeof m.message_id, 'number');
    assert.ok(!JSON.stringify(m).includes('14時'));

    const mails = await waitFor(() => {
      const mine = smtp.mails().filter((x) => x.to === 'ns.suzuki@demo.tsunagu.local');
      return mine.length >= 2 ? mine : [];
    }, 5000);
    assert.equal(mails.length, 2, 'one mail for the post, one for the message, none for the comment');
    assert.deepEqual(mails.map((x) => /新しい(投稿|メッセージ)/.exec(x.subject)?.[1]).sort(),
      ['メッセージ', '投稿'].sort(), mails.map((x) => x.subject).join(' / '));
    for (const mail of mails) {
      assert.ok(mail.subject.includes(name), mail.subject);
      assert.ok(mail.body.includes(`${PUBLIC_URL}/care/groups/${gid}`), mail.body);
      // The blood pressure as written ('168' alone turns up in a random
      // Message-ID now and then).
      for (const words of ['咳', '168/96', '往診報告', '了解しました', '14時']) {
        assert.ok(!mail.raw.includes(words) && !mail.body.includes(words), `mail carries no "${words}"`);
      }
    }
    assert.equal(smtp.mails().filter((m) => m.to === 'dr.kato@demo.tsunagu.local').length, 0,
      'the author is not mailed; comments are not mailed one by one');
    assert.ok(!server.logs.join('').includes('咳'), 'nothing of the post in the log');
  } finally {
    ws?.close();
    await server.stop();
    await smtp.stop();
  }
});

test('digest mode collects posts and comments into one mail per interval', async () => {
  const smtp = await startSmtp();
  const server = await startServer({ extraArgs: [...smtpArgs(smtp), '--care-digest-minutes', '0.05'] });
  try {
    const { kato, suzuki, gid, name } = await makeTeam(server);
    expectError(assert, await suzuki.request('PUT', '/api/v1/care/notification-settings', { email: 'weekly' }), 400, 'invalid_input');
    assert.equal((await suzuki.get('/api/v1/care/notification-settings')).json.email, 'immediate',
      'a refused change stores nothing');
    const put = await suzuki.request('PUT', '/api/v1/care/notification-settings', { email: 'digest' });
    assert.equal(put.status, 200, put.text);
    assert.deepEqual(put.json, { email: 'digest', address_known: true });

    const first = await kato.post(`/api/v1/care/groups/${gid}/posts`, { kind: 'message', body: SECRET });
    assert.equal(first.status, 201, first.text);
    assert.equal((await kato.post(`/api/v1/care/groups/${gid}/posts`, { kind: 'message', body: '夕方に再訪' })).status, 201);
    assert.equal((await kato.post(`/api/v1/care/posts/${first.json.id}/comments`, { body: '追記: 咳止め処方' })).status, 201);
    await sleep(1000);
    assert.equal(smtp.mails().length, 0, 'nothing before the interval (3 s)');

    const mails = await waitFor(() => smtp.mails(), 10000);
    const notifyLog = () => server.logs.join('').split('\n').filter((l) => l.includes('care.notify') || l.includes('mail.'));
    assert.equal(mails.length, 1, 'one digest; log: ' + notifyLog().join('\n'));
    const mail = mails[0];
    assert.equal(mail.to, 'ns.suzuki@demo.tsunagu.local');
    assert.ok(mail.subject.includes(name), mail.subject);
    assert.ok(mail.body.includes('新しい投稿 2件、コメント 1件'), mail.body);
    assert.ok(mail.body.includes(`${PUBLIC_URL}/care/groups/${gid}`), mail.body);
    for (const words of ['咳', '168/96', '夕方']) assert.ok(!mail.body.includes(words), `no "${words}"`);
    await sleep(4000);
    assert.equal(smtp.mails().length, 1, 'sent once');
  } finally {
    await server.stop();
    await smtp.stop();
  }
});

test('a bad digest interval is refused at start', () => {
  const r = spawnSync(bin, ['serve', '--care-digest-minutes', '0', '--port', '0'],
    { encoding: 'utf8', timeout: 10000, cwd: os.tmpdir() });
  assert.notEqual(r.status, 0);
  assert.match(r.stdout + r.stderr, /care-digest-minutes/);
});
