// WebSocket fan-out benchmark of bench/care_scale_bench.sh.
//   node bench/care_ws_fanout.mjs BASE_URL PASSWORD CLIENTS POSTS GROUP_ID AUTHOR_LOGIN
// Logs in CLIENTS users (care.u0000 ...; group GROUP_ID's members are among
// the first ones), opens one WebSocket per user on /ws, then the author
// writes POSTS messages to the group, one at a time, and the script measures
// for every member's frame the time from sending the POST to the frame's
// arrival. Prints one line of JSON: clients connected, frames expected and
// received, delivery p50/p99/max in ms.
// The WebSocket client is a minimal RFC 6455 one over `net` (text frames
// from the server are unmasked), so that 1,000 connections cost little here.
import net from 'node:net';
import crypto from 'node:crypto';

const [base, password, clientsArg, postsArg, groupArg, authorLogin] = process.argv.slice(2);
const url = new URL(base);
const clients = Number(clientsArg);
const posts = Number(postsArg);
const group = Number(groupArg);

function login(loginId) {
  return fetch(`${base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login_id: loginId, password }),
  }).then(async (r) => {
    if (r.status !== 200) throw new Error(`login ${loginId}: ${r.status} ${await r.text()}`);
    const cookie = r.headers.get('set-cookie').match(/tsunagu_session=([^;]+)/)[1];
    const json = await r.json();
    return { cookie, csrf: json.csrf_token };
  });
}

function connect(cookie, onText) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname);
    const key = crypto.randomBytes(16).toString('base64');
    let buffer = Buffer.alloc(0);
    let open = false;
    socket.on('connect', () => {
      socket.write(`GET /ws HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\n` +
        `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
        `Cookie: tsunagu_session=${cookie}\r\n\r\n`);
    });
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!open) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffer.subarray(0, end).toString();
        if (!head.startsWith('HTTP/1.1 101')) { reject(new Error(head.split('\r\n')[0])); socket.destroy(); return; }
        open = true;
        buffer = buffer.subarray(end + 4);
        resolve(socket);
      }
      for (;;) {
        if (buffer.length < 2) return;
        let len = buffer[1] & 0x7f;
        let offset = 2;
        if (len === 126) { if (buffer.length < 4) return; len = buffer.readUInt16BE(2); offset = 4; }
        else if (len === 127) { if (buffer.length < 10) return; len = Number(buffer.readBigUInt64BE(2)); offset = 10; }
        if (buffer.length < offset + len) return;
        const opcode = buffer[0] & 0x0f;
        const payload = buffer.subarray(offset, offset + len);
        buffer = buffer.subarray(offset + len);
        if (opcode === 1) onText(payload.toString());
      }
    });
    socket.on('error', reject);
  });
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const sessions = [];
const loginId = (i) => `care.u${String(i).padStart(4, '0')}`;
for (let i = 0; i < clients; i += 20) {  // 20 logins at a time
  const batch = [];
  for (let j = i; j < Math.min(clients, i + 20); j++) batch.push(login(loginId(j)));
  sessions.push(...(await Promise.all(batch)));
}
const author = sessions[Number(authorLogin.replace(/\D/g, ''))];

const sentAt = new Map();    // post id -> time the POST was sent
const arrivals = new Map();  // post id -> arrival times of its frames
const sockets = [];
for (let i = 0; i < sessions.length; i += 50) {
  const batch = [];
  for (let j = i; j < Math.min(sessions.length, i + 50); j++) {
    batch.push(connect(sessions[j].cookie, (text) => {
      const at = performance.now();
      let frame;
      try { frame = JSON.parse(text); } catch { return; }
      if (frame.type !== 'care.post' || frame.group_id !== group) return;
      if (!arrivals.has(frame.post_id)) arrivals.set(frame.post_id, []);
      arrivals.get(frame.post_id).push(at);
    }));
  }
  sockets.push(...(await Promise.all(batch)));
}

// The group's members (the author excluded) are the expected recipients.
const detail = await fetch(`${base}/api/v1/care/groups/${group}`, {
  headers: { cookie: `tsunagu_session=${author.cookie}` },
}).then((r) => r.json());
const recipients = detail.members.length - 1;

for (let n = 0; n < posts; n++) {
  const start = performance.now();
  const r = await fetch(`${base}/api/v1/care/groups/${group}/posts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie: `tsunagu_session=${author.cookie}`,
      'x-csrf-token': author.csrf },
    body: JSON.stringify({ kind: 'message', body: `負荷試験の連絡 ${n + 1}` }),
  });
  const post = await r.json();
  if (r.status !== 201) throw new Error(`post: ${r.status} ${JSON.stringify(post)}`);
  // Frames may arrive before the response: they are matched afterwards.
  sentAt.set(post.id, start);
  await new Promise((resolve) => setTimeout(resolve, 50));
}
await new Promise((resolve) => setTimeout(resolve, 1000));
for (const s of sockets) s.destroy();
const latencies = [];
let framesReceived = 0;
for (const [id, start] of sentAt) {
  for (const at of arrivals.get(id) ?? []) {
    framesReceived++;
    latencies.push(at - start);
  }
}
latencies.sort((a, b) => a - b);
const round = (v) => (v === null ? null : Math.round(v * 10) / 10);
console.log(JSON.stringify({
  clients_connected: sockets.length,
  recipients_per_post: recipients,
  frames_expected: recipients * posts,
  frames_received: framesReceived,
  p50_ms: round(percentile(latencies, 50)),
  p99_ms: round(percentile(latencies, 99)),
  max_ms: round(latencies.at(-1) ?? null),
}));
