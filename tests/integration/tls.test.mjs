// TLS 1.3 only, and no plain HTTP on public addresses unless allowed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { startServer, bin, freePort } from './harness.mjs';

function selfSigned() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsunagu-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
    '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
    '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'pipe' });
  return { dir, cert: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem') };
}

function get(port, options) {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path: '/healthz', rejectUnauthorized: false, ...options }, (res) => {
      const protocol = res.socket.getProtocol();
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body, protocol }));
    });
    req.on('error', reject);
  });
}

test('serves HTTPS with TLS 1.3 and refuses TLS 1.2', async () => {
  const tls = selfSigned();
  const server = await startServer({ demo: false, extraArgs: ['--tls-cert', tls.cert, '--tls-key', tls.key] });
  try {
    const ok = await get(server.port, {});
    assert.equal(ok.status, 200);
    assert.match(ok.body, /ok/);
    assert.equal(ok.protocol, 'TLSv1.3');
    await assert.rejects(get(server.port, { maxVersion: 'TLSv1.2', agent: false }));
  } finally {
    await server.stop();
    rmSync(tls.dir, { recursive: true, force: true });
  }
});

test('plain HTTP on a public address is refused unless allowed', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsunagu-it-'));
  try {
    const port = await freePort();
    const r = spawnSync(bin, ['serve', '--data', dir, '--address', '0.0.0.0', '--port', String(port)], { timeout: 10000 });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr.toString() + r.stdout.toString(), /plain HTTP|TLS/i);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
