// Invitation mail through a real SMTP server (aiosmtpd from Debian) on 127.0.0.1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, Client, institutionCode } from './harness.mjs';
import { startSmtp, decodeMail } from './smtp.mjs';

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

    const delivered = await smtp.waitFor(1);
    assert.equal(delivered.length, 1, 'one mail delivered');
    const raw = delivered[0];
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
