// `tsunagu serve` start to first answer (/healthz 200) and idle RSS.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';

const [bin, data] = process.argv.slice(2);
const runs = 10;

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

const times = [];
let rss = 0;
for (let i = 0; i < runs; i++) {
  const port = await freePort();
  const t0 = process.hrtime.bigint();
  const child = spawn(bin, ['serve', '--data', data, '--port', String(port)], { stdio: 'ignore' });
  for (;;) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (r.ok) break;
    } catch { /* starting */ }
    await new Promise((r) => setTimeout(r, 2));
  }
  times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  if (i === runs - 1) {
    await new Promise((r) => setTimeout(r, 1000));
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    rss = Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
  }
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
}
times.sort((a, b) => a - b);
console.log(`   start to first answer: median ${times[runs >> 1].toFixed(1)} ms, max ${times[runs - 1].toFixed(1)} ms over ${runs} starts (target < 300 ms)`);
console.log(`   idle RSS: ${rss.toFixed(1)} MB (target < 40 MB)`);
