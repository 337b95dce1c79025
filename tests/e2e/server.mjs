// Shared helpers for the browser tests: start the real server on a free
// 127.0.0.1 port with a fresh demo network, launch headless Chromium
// (the system one; nothing is ever downloaded) and compute TOTP codes.
import { spawn, execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createRequire } from 'node:module';

const repo = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const require = createRequire(join(repo, 'web', 'package.json'));
const { chromium } = require('playwright-core');

export const kDemoPassword = 'tsunagu-demo-2026';
export const kDemoTotpSecret = 'JBSWY3DPEHPK3PXP';
export const kChromiumArgs = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic',
];

export function binary() {
  return process.env.TSUNAGU_BIN || join(repo, 'build', 'tsunagu');
}

/** Runs a `tsunagu` subcommand to completion; resolves with its output. */
export async function runTsunagu(args, options = {}) {
  const { stdout, stderr } = await promisify(execFile)(binary(), args, { timeout: 120_000, ...options });
  return { stdout, stderr };
}

/**
 * A logged-in JSON API client for seeding test data (password-only
 * accounts): keeps the session cookie and sends the CSRF token.
 */
export async function apiSession(baseUrl, loginId, password) {
  const login = await fetch(`${baseUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ login_id: loginId, password }),
  });
  if (!login.ok) throw new Error(`login ${loginId}: ${login.status} ${await login.text()}`);
  const { csrf_token: csrf } = await login.json();
  const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const call = async (method, path, body) => {
    const r = await fetch(`${baseUrl}/api/v1${path}`, {
      method,
      headers: {
        Cookie: cookie,
        'X-CSRF-Token': csrf,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    const data = text ? JSON.parse(text) : undefined;
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return data;
  };
  return {
    get: (path) => call('GET', path),
    post: (path, body) => call('POST', path, body ?? {}),
    del: (path) => call('DELETE', path),
  };
}

function freePort() {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolvePort(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Starts `tsunagu demo` then `tsunagu serve`; resolves once /healthz answers. */
export async function startServer({ extraArgs = [] } = {}) {
  const bin = binary();
  const dataDir = await mkdtemp(join(tmpdir(), 'tsunagu-e2e-'));
  await promisify(execFile)(bin, ['demo', '--data', dataDir], { timeout: 120_000 });
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const child = spawn(
    bin,
    ['serve', '--data', dataDir, '--port', String(port), '--static', join(repo, 'web', 'dist'), ...extraArgs],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (d) => { output = (output + d).slice(-20_000); });
  child.stderr.on('data', (d) => { output = (output + d).slice(-20_000); });
  let exited = false;
  child.on('exit', () => { exited = true; });

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) throw new Error(`tsunagu serve exited early:\n${output}`);
    try {
      const r = await fetch(`${baseUrl}/healthz`);
      if (r.ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`tsunagu serve did not become healthy:\n${output}`);
    }
    await sleep(100);
  }

  return {
    baseUrl,
    dataDir,
    output: () => output,
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        const t0 = Date.now();
        while (!exited && Date.now() - t0 < 10_000) await sleep(50);
        if (!exited) child.kill('SIGKILL');
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Headless system Chromium with a fresh profile; close() removes the profile. */
export async function launchBrowser(options = {}) {
  const profile = await mkdtemp(join(tmpdir(), 'tsunagu-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium',
    headless: true,
    args: kChromiumArgs,
    locale: 'ja-JP',
    timezoneId: 'Asia/Tokyo',
    viewport: { width: 1280, height: 900 },
    ...options,
  });
  context.setDefaultTimeout(15_000);
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const clean = text.replace(/[\s=-]/g, '').toUpperCase();
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of clean) {
    const idx = alphabet.indexOf(ch);
    if (idx < 0) throw new Error(`not base32: ${ch}`);
    value = (value << 5) | idx;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** RFC 6238 TOTP (SHA-1, 30 s, 6 digits). */
export function totp(secret, time = Date.now()) {
  const step = Math.floor(time / 1000 / 30);
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const code = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(code).padStart(6, '0');
}

const lastStep = new Map();

/**
 * A code for a secret that was not used in this 30-second step yet (the
 * server rejects a replayed code); waits for the next step if needed.
 */
export async function freshTotp(secret) {
  for (;;) {
    const now = Date.now();
    const step = Math.floor(now / 30_000);
    const msLeft = 30_000 - (now % 30_000);
    if (lastStep.get(secret) !== step && msLeft > 2_000) {
      lastStep.set(secret, step);
      return totp(secret, now);
    }
    await sleep(msLeft + 250);
  }
}
