// Login latency with the documented Argon2id parameters: p50 / p99 over N
// sequential password logins of a demo staff user.
const [base, n = '100'] = process.argv.slice(2);
const times = [];
for (let i = 0; i < Number(n); i++) {
  const t0 = process.hrtime.bigint();
  const r = await fetch(base + '/api/v1/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login_id: 'dr.sato', password: 'tsunagu-demo-2026' }),
  });
  await r.text();
  if (r.status !== 200) throw new Error('login failed: ' + r.status);
  times.push(Number(process.hrtime.bigint() - t0) / 1e6);
}
times.sort((a, b) => a - b);
const q = (p) => times[Math.min(times.length - 1, Math.floor(p * times.length))];
console.log(`   login (Argon2id m=19 MiB, t=2, p=1): p50 ${q(0.5).toFixed(1)} ms, p99 ${q(0.99).toFixed(1)} ms over ${times.length} logins`);
