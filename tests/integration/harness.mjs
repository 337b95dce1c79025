// Starts the real tsunagu binary on 127.0.0.1 against a fresh data directory
// (SQLite) or a fresh PostgreSQL database, and talks to it like a browser.
import { spawn, execFileSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '../..');
export const bin = process.env.TSUNAGU_BIN || path.join(repo, 'build/tsunagu');
export const backend = process.env.TSUNAGU_TEST_BACKEND || 'sqlite';
export const DEMO_PASSWORD = 'tsunagu-demo-2026';
export const DEMO_TOTP = 'JBSWY3DPEHPK3PXP';

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function base32Decode(s) {
  const alpha = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0, value = 0;
  const out = [];
  for (const c of s.replace(/=+$/, '').toUpperCase()) {
    value = (value << 5) | alpha.indexOf(c);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

// RFC 6238 TOTP (SHA-1, 30 s, 6 digits).
export function totp(secret, unixSeconds = Date.now() / 1000) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / 30)));
  const h = createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const o = h[h.length - 1] & 15;
  const n = ((h[o] & 127) << 24) | (h[o + 1] << 16) | (h[o + 2] << 8) | h[o + 3];
  return String(n % 1e6).padStart(6, '0');
}

function pgDatabaseUrl() {
  const admin = process.env.TSUNAGU_TEST_PG_URL;
  if (!admin) throw new Error('TSUNAGU_TEST_PG_URL is not set');
  const name = 'it_' + randomBytes(6).toString('hex');
  execFileSync('psql', [admin, '-q', '-c', `CREATE DATABASE ${name}`]);
  const url = new URL(admin);
  url.pathname = '/' + name;
  return { url: url.toString(), drop: () => execFileSync('psql', [admin, '-q', '-c', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`]) };
}

// Starts a server with the demo network. extraArgs go to `serve`.
export async function startServer({ demo = true, extraArgs = [], env = {} } = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsunagu-it-'));
  const dbArgs = [];
  let pg = null;
  if (backend === 'postgres') {
    pg = pgDatabaseUrl();
    dbArgs.push('--db', pg.url);
  }
  if (demo) execFileSync(bin, ['demo', '--data', dir, ...dbArgs], { stdio: 'pipe' });
  const port = await freePort();
  const logs = [];
  const child = spawn(bin, ['serve', '--data', dir, '--port', String(port), ...dbArgs, ...extraArgs],
                      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  child.stdout.on('data', (d) => logs.push(d.toString()));
  child.stderr.on('data', (d) => logs.push(d.toString()));
  const scheme = extraArgs.includes('--tls-cert') ? 'https' : 'http';
  const url = `${scheme}://127.0.0.1:${port}`;
  const deadline = Date.now() + 15000;
  for (;;) {
    if (child.exitCode !== null) throw new Error('server exited: ' + logs.join(''));
    try {
      if (scheme === 'http') {
        const r = await fetch(url + '/healthz');
        if (r.ok) break;
      } else {
        await new Promise((res, rej) => {
          const s = net.connect(port, '127.0.0.1', () => { s.end(); res(); });
          s.on('error', rej);
        });
        break;
      }
    } catch { /* not yet */ }
    if (Date.now() > deadline) throw new Error('server did not start: ' + logs.join(''));
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url, port, dir, child, logs,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      rmSync(dir, { recursive: true, force: true });
      if (pg) pg.drop();
    },
  };
}

// A browser-like client: keeps the session cookie and the CSRF token.
export class Client {
  constructor(base) {
    this.base = base;
    this.cookie = '';
    this.csrf = '';
  }

  async request(method, p, body, { csrf = true, raw = false, headers = {} } = {}) {
    const h = { ...headers };
    if (this.cookie) h.cookie = this.cookie;
    if (body !== undefined && !raw) h['content-type'] = 'application/json';
    if (csrf && this.csrf && method !== 'GET') h['x-csrf-token'] = this.csrf;
    const r = await fetch(this.base + p, {
      method, headers: h, body: body === undefined ? undefined : raw ? body : JSON.stringify(body),
    });
    const setCookie = r.headers.get('set-cookie');
    if (setCookie) {
      const m = /tsunagu_session=([^;]*)/.exec(setCookie);
      if (m) this.cookie = m[1] ? `tsunagu_session=${m[1]}` : '';
    }
    const text = await r.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { json = null; }
    if (json && json.csrf_token) this.csrf = json.csrf_token;
    return { status: r.status, json, text, headers: r.headers };
  }
  get(p, o) { return this.request('GET', p, undefined, o); }
  post(p, b, o) { return this.request('POST', p, b ?? {}, o); }
  patch(p, b, o) { return this.request('PATCH', p, b, o); }

  // Logs in (with TOTP when asked). Returns the final response.
  async login(loginId, password = DEMO_PASSWORD, secret = DEMO_TOTP) {
    let r = await this.post('/api/v1/auth/login', { login_id: loginId, password });
    if (r.status === 200 && r.json.mfa_required) {
      r = await this.post('/api/v1/auth/login/totp', { mfa_token: r.json.mfa_token, code: totp(secret) });
    }
    return r;
  }
}

export function expectError(assert, r, status, code) {
  assert.equal(r.status, status, `expected ${status}, got ${r.status}: ${r.text}`);
  assert.ok(r.json && r.json.error, 'error body: ' + r.text);
  if (code) assert.equal(r.json.error.code, code);
  assert.equal(typeof r.json.error.message, 'string');
}

// A valid 10-digit medical institution code (prefecture 07, table t).
export function institutionCode(table, six) {
  let sum = 0;
  for (let i = 0; i < 6; i++) {
    const p = Number(six[i]) * (i % 2 === 0 ? 2 : 1);
    sum += Math.floor(p / 10) + (p % 10);
  }
  return `07${table}${six}${(10 - (sum % 10)) % 10}`;
}
