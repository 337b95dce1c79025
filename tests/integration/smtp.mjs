// A real SMTP server for tests: aiosmtpd (python3-aiosmtpd from Debian) on
// 127.0.0.1, delivering into a Maildir that the test reads.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './harness.mjs';

export async function startSmtp() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsunagu-smtp-'));
  const port = await freePort();
  const mbox = path.join(dir, 'mbox');
  const child = spawn('/usr/bin/python3', ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${port}`,
    '-c', 'aiosmtpd.handlers.Mailbox', mbox], { stdio: 'ignore' });
  for (let i = 0; i < 200; i++) {
    const up = await new Promise((res) => {
      const s = net.connect(port, '127.0.0.1', () => { s.end(); res(true); });
      s.on('error', () => res(false));
    });
    if (up) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const inbox = path.join(mbox, 'new');
  const files = () => (existsSync(inbox) ? readdirSync(inbox).sort() : []);
  return {
    port,
    mbox,
    url: `smtp://127.0.0.1:${port}`,
    /** The raw messages delivered so far. */
    messages() {
      return files().map((f) => readFileSync(path.join(inbox, f), 'utf8'));
    },
    /** The delivered messages, decoded (see decodeMail). */
    mails() {
      return this.messages().map(decodeMail);
    },
    /** Waits until at least `n` messages were delivered (up to `ms`); returns them. */
    async waitFor(n, ms = 5000) {
      for (let waited = 0; files().length < n && waited < ms; waited += 50) {
        await new Promise((r) => setTimeout(r, 50));
      }
      return this.messages();
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Headers, decoded subject (RFC 2047 base64) and decoded body (base64) of a raw mail. */
export function decodeMail(raw) {
  const [head, ...rest] = raw.split(/\r?\n\r?\n/);
  const subjectLine = /^Subject: (.*)$/m.exec(head)[1];
  const subject = subjectLine.replace(/=\?UTF-8\?B\?([^?]*)\?=/g, (_, b) => Buffer.from(b, 'base64').toString('utf8'));
  const body = Buffer.from(rest.join('\n').replace(/\s+/g, ''), 'base64').toString('utf8');
  const to = ((/^To: (.*)$/m.exec(head) || [])[1] || '').trim();
  return { raw, head, to, subject, body };
}
