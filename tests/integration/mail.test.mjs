// Invitation mail through a real SMTP server (aiosmtpd from Debian) on 127.0.0.1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, Client, freePort, institutionCode } from './harness.mjs';

async function startSmtp() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsunagu-smtp-'));
  const port = await freePort();
  const mbox = path.join(dir, 'mbox');
  const child = spawn('/usr/bin/python3', ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${port}`,
    '-c', 'aiosmtpd.handlers.Mailbox', mbox], { stdio: 'ignore' });
  const net = await import('node:net');
  for (let i = 0; i < 200; i++) {
    const up = await new Promise((res) => {
      const s = net.connect(port, '127.0.0.1', () => { s.end(); res(true); });
      s.on('error', () => res(false));
    });
    if (up) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port, mbox,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function decodeMail(raw) {
  const [head, ...rest] = raw.split(/\r?\n\r?\n/);
  const subjectLine = /^Subject: (.*)$/m.exec(head)[1];
  const subject = subjectLine.replace(/=\?UTF-8\?B\?([^?]*)\?=/g, (_, b) => Buffer.from(b, 'base64').toString('utf8'));
  const body = Buffer.from(rest.join('\n').replace(/\s+/g, ''), 'base64').toString('utf8');
  return { head, subject, body };
}

test('approving an application mails the invitation link and nothing medical', async () => {
  const smtp = await startSmtp();
  const server = await startServer({ extraArgs: ['--smtp-url', `smtp://127.0.0.1:${smtp.port}`,
    '--smtp-from', 'つなぐ事務局 <noreply@tsunagu.example.jp>', '--public-url', 'https://tsunagu.example.jp'] });
  try {
    const anon = new Client(server.url);
    const applied = await anon.post('/api/v1/applications', {
      facility: { type: 'pharmacy', code: institutionCode('4', '777001'), name: 'ひまわり薬局', kana: 'ヒマワリヤッキョク' },
      applicant_name: '向日 葵', applicant_email: 'himawari@pharmacy.example.jp' });
    assert.equal(applied.status, 201, applied.text);
    const admin = new Client(server.url);
    assert.equal((await admin.login('admin')).status, 200);
    const approved = await admin.post(`/api/v1/applications/${applied.json.id}/approve`);
    assert.equal(approved.status, 200, approved.text);
    assert.equal(approved.json.mail_sent, true);
    assert.ok(approved.json.invitation_url.startsWith('https://tsunagu.example.jp/invite/'));

    // aiosmtpd's Mailbox handler delivers into a Maildir.
    const inbox = path.join(smtp.mbox, 'new');
    const delivered = () => (existsSync(inbox) ? readdirSync(inbox) : []);
    for (let i = 0; i < 100 && delivered().length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(delivered().length, 1, 'one mail delivered');
    const raw = readFileSync(path.join(inbox, delivered()[0]), 'utf8');
    assert.match(raw, /^To: himawari@pharmacy\.example\.jp$/m);
    const mail = decodeMail(raw);
    assert.match(mail.subject, /参加申請/);
    assert.ok(mail.body.includes(approved.json.invitation_url), 'link in the mail');
    assert.ok(mail.body.includes('ひまわり薬局'));
    assert.ok(!server.logs.join('').includes(approved.json.invitation_url), 'link not in the log when mailed');
  } finally {
    await server.stop();
    await smtp.stop();
  }
});
