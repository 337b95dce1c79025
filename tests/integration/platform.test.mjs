// Black-box tests of the platform API against the real server binary.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, Client, expectError, institutionCode, totp, DEMO_PASSWORD } from './harness.mjs';

let server;
let admin;
before(async () => {
  server = await startServer();
  admin = new Client(server.url);
  const r = await admin.login('admin');
  assert.equal(r.status, 200, r.text);
});
after(async () => { await server?.stop(); });

test('health and metrics endpoints answer', async () => {
  const h = await fetch(server.url + '/healthz');
  assert.equal(h.status, 200);
  assert.deepEqual(await h.json(), { status: 'ok' });
  const m = await (await fetch(server.url + '/metrics')).text();
  assert.match(m, /# TYPE \w+ counter/);
});

test('admin login needs the second factor and a wrong code is refused', async () => {
  const c = new Client(server.url);
  const first = await c.post('/api/v1/auth/login', { login_id: 'admin', password: DEMO_PASSWORD });
  assert.equal(first.status, 200);
  assert.equal(first.json.mfa_required, true);
  assert.equal(c.cookie, '', 'no session before the second factor');
  const wrong = await c.post('/api/v1/auth/login/totp', { mfa_token: first.json.mfa_token, code: '000000' === totp('JBSWY3DPEHPK3PXP') ? '111111' : '000000' });
  expectError(assert, wrong, 401, 'unauthenticated');
  const me = await admin.get('/api/v1/auth/me');
  assert.equal(me.status, 200);
  assert.equal(me.json.user.login_id, 'admin');
  assert.equal(me.json.user.role, 'network_admin');
});

test('wrong password gives one generic message', async () => {
  const c = new Client(server.url);
  const a = await c.post('/api/v1/auth/login', { login_id: 'dr.sato', password: 'wrong-password-123' });
  const b = await c.post('/api/v1/auth/login', { login_id: 'nobody-here', password: 'wrong-password-123' });
  expectError(assert, a, 401, 'unauthenticated');
  expectError(assert, b, 401, 'unauthenticated');
  assert.equal(a.json.error.message, b.json.error.message);
});

test('participation application to first patient access, end to end', async () => {
  const areas = await new Client(server.url).get('/api/v1/areas');
  assert.equal(areas.status, 200);
  assert.ok(areas.json.items.length >= 2);

  const code = institutionCode('1', '654321');
  const anon = new Client(server.url);
  const applied = await anon.post('/api/v1/applications', {
    facility: { type: 'clinic', code, name: 'みどり台内科医院', kana: 'ミドリダイナイカイイン',
                postcode: '960-8031', address: '福島市みどり台1-2', phone: '024-555-0000',
                area: areas.json.items[0].code, departments: ['内科'] },
    applicant_name: '緑川 一郎', applicant_email: 'midori@clinic.example.jp',
  });
  assert.equal(applied.status, 201, applied.text);

  const pending = await admin.get('/api/v1/applications?status=pending');
  assert.equal(pending.status, 200);
  const app = pending.json.items.find((a) => a.id === applied.json.id);
  assert.ok(app, 'application listed');
  assert.equal(app.facility.name, 'みどり台内科医院');

  const approved = await admin.post(`/api/v1/applications/${app.id}/approve`);
  assert.equal(approved.status, 200, approved.text);
  const token = approved.json.invitation_url.split('/invite/')[1];
  assert.ok(token);
  assert.ok(server.logs.join('').includes('/invite/' + token), 'invitation shown in the log without SMTP');
  const again = await admin.post(`/api/v1/applications/${app.id}/approve`);
  expectError(assert, again, 409, 'conflict');

  const inv = await anon.get('/api/v1/invitations/' + token);
  assert.equal(inv.status, 200);
  assert.equal(inv.json.facility_name, 'みどり台内科医院');

  const weak = await anon.post(`/api/v1/invitations/${token}/accept`, { login_id: 'midori-admin', display_name: '緑川 一郎', password: 'short' });
  expectError(assert, weak, 400, 'invalid_input');
  const accepted = await anon.post(`/api/v1/invitations/${token}/accept`, { login_id: 'midori-admin', display_name: '緑川 一郎', password: 'midori-clinic-admin-2026' });
  assert.equal(accepted.status, 201, accepted.text);
  const reuse = await anon.post(`/api/v1/invitations/${token}/accept`, { login_id: 'midori-admin2', display_name: 'x', password: 'midori-clinic-admin-2026' });
  expectError(assert, reuse, 404, 'not_found');

  // The new facility admin must enrol TOTP before doing anything else.
  const fa = new Client(server.url);
  const login = await fa.login('midori-admin', 'midori-clinic-admin-2026');
  assert.equal(login.status, 200, login.text);
  assert.equal(login.json.user.mfa_enrollment_required, true);
  const facilityId = login.json.user.facility_id;
  expectError(assert, await fa.get(`/api/v1/facilities/${facilityId}/users`), 403, 'forbidden');
  const enrol = await fa.post('/api/v1/auth/totp/enroll');
  assert.equal(enrol.status, 200, enrol.text);
  assert.match(enrol.json.qr_svg, /<svg/);
  assert.match(enrol.json.otpauth_uri, /^otpauth:\/\/totp\//);
  const confirmed = await fa.post('/api/v1/auth/totp/confirm', { code: totp(enrol.json.secret) });
  assert.equal(confirmed.status, 200, confirmed.text);
  assert.equal(confirmed.json.user.totp_enabled, true);

  // Staff account with a forced password change.
  const created = await fa.post(`/api/v1/facilities/${facilityId}/users`, {
    login_id: 'midori-ns', display_name: '若葉 看子', kana: 'ワカバ ミコ', occupation: 'nurse',
    role: 'staff', password: 'initial-password-2026',
  });
  assert.equal(created.status, 201, created.text);
  assert.equal(created.json.must_change_password, true);
  const other = await fa.post('/api/v1/facilities/1/users', {
    login_id: 'intruder', display_name: 'x', occupation: 'nurse', role: 'staff', password: 'initial-password-2026' });
  expectError(assert, other, 403, 'forbidden');
  const escalate = await fa.post(`/api/v1/facilities/${facilityId}/users`, {
    login_id: 'midori-boss', display_name: 'x', occupation: 'clerk', role: 'network_admin', password: 'initial-password-2026' });
  expectError(assert, escalate, 403, 'forbidden');

  const ns = new Client(server.url);
  const nsLogin = await ns.login('midori-ns', 'initial-password-2026');
  assert.equal(nsLogin.status, 200, nsLogin.text);
  assert.equal(nsLogin.json.user.must_change_password, true);
  expectError(assert, await ns.get('/api/v1/patients?q=x'), 403, 'forbidden');
  const changed = await ns.post('/api/v1/auth/password', { current_password: 'initial-password-2026', new_password: 'wakaba-nurse-password-1' });
  assert.ok(changed.status === 204 || changed.status === 200, changed.text);

  // Register and find a patient; hiragana finds katakana.
  const reg = await ns.post('/api/v1/patients', {
    name: '福島 花子', kana: 'フクシマ ハナコ', birth_date: '1940-04-01', sex: 'female',
    postcode: '960-8031', phone: '024-555-1234', local_id: 'M-0001',
  });
  assert.equal(reg.status, 201, reg.text);
  const rid = reg.json.regional_id;
  assert.match(rid, /^\d{12}$/);
  const found = await ns.get('/api/v1/patients?q=' + encodeURIComponent('ふくしま　はなこ'));
  assert.equal(found.status, 200);
  assert.equal(found.json.total, 1);
  assert.equal(found.json.items[0].regional_id, rid);
  const read = await ns.get('/api/v1/patients/' + rid);
  assert.equal(read.status, 200);
  assert.equal(read.json.name, '福島 花子');

  // Another facility's staff cannot see the patient.
  const sato = new Client(server.url);
  assert.equal((await sato.login('dr.sato')).status, 200);
  expectError(assert, await sato.get('/api/v1/patients/' + rid), 404, 'not_found');
  const satoSearch = await sato.get('/api/v1/patients?q=' + encodeURIComponent('ふくしまはなこ'));
  assert.equal(satoSearch.json.total, 0);

  // The access shows in the patient's access history and in the audit log.
  const history = await ns.get(`/api/v1/patients/${rid}/access-log`);
  assert.equal(history.status, 200);
  assert.ok(history.json.items.some((e) => e.action === 'patient.read' && e.user_name === '若葉 看子'));
  const audit = await admin.get('/api/v1/audit?patient_id=' + rid);
  assert.equal(audit.status, 200, audit.text);
  const actions = audit.json.items.map((e) => e.action);
  assert.ok(actions.includes('patient.create'));
  assert.ok(actions.includes('patient.read'));
  const denied = await admin.get('/api/v1/audit?action=patient.read');
  assert.ok(denied.json.items.some((e) => e.outcome === 'denied'), 'refused read audited');
  // A lost phone: the secretariat resets the facility admin's second factor.
  expectError(assert, await fa.post(`/api/v1/users/${login.json.user.id}/reset-totp`), 403, 'forbidden');
  const reset = await admin.post(`/api/v1/users/${login.json.user.id}/reset-totp`);
  assert.equal(reset.status, 200, reset.text);
  assert.equal(reset.json.totp_enabled, false);
  expectError(assert, await fa.get('/api/v1/auth/me'), 401, 'unauthenticated');
  expectError(assert, await admin.post(`/api/v1/users/${login.json.user.id}/reset-totp`), 409, 'conflict');
  const relogin = await new Client(server.url).login('midori-admin', 'midori-clinic-admin-2026');
  assert.equal(relogin.status, 200, relogin.text);
  assert.equal(relogin.json.user.mfa_enrollment_required, true);

  const verify = await admin.get('/api/v1/audit/verify');
  assert.equal(verify.status, 200);
  assert.equal(verify.json.ok, true);
});

test('bad input gets a clear 4xx error and changes nothing', async () => {
  const sato = new Client(server.url);
  assert.equal((await sato.login('dr.sato')).status, 200);
  const before = (await admin.get('/api/v1/patients?limit=1')).json.total;

  const malformed = await sato.request('POST', '/api/v1/patients', '{"name": "x",', { raw: true, headers: { 'content-type': 'application/json' } });
  expectError(assert, malformed, 400, 'invalid_input');
  const wrongType = await sato.post('/api/v1/patients', { name: 42, kana: 'ア', birth_date: '2000-01-01', sex: 'male' });
  expectError(assert, wrongType, 400, 'invalid_input');
  assert.match(wrongType.json.error.message, /name/);
  const badDate = await sato.post('/api/v1/patients', { name: '山', kana: 'ヤマ', birth_date: '2000-02-30', sex: 'male' });
  expectError(assert, badDate, 400, 'invalid_input');
  const huge = await sato.request('POST', '/api/v1/patients', JSON.stringify({ name: 'x'.repeat(3 << 20) }), { raw: true, headers: { 'content-type': 'application/json' } });
  expectError(assert, huge, 413, 'too_large');
  const noCsrf = await sato.post('/api/v1/patients', { name: '山', kana: 'ヤマ', birth_date: '2000-01-01', sex: 'male' }, { csrf: false });
  expectError(assert, noCsrf, 403, 'forbidden');
  expectError(assert, await sato.get('/api/v1/patients/123456789012'), 404, 'not_found');
  expectError(assert, await sato.get('/api/v1/patients/not-an-id'), 404, 'not_found');
  expectError(assert, await sato.get('/api/v1/facilities/999999'), 404, 'not_found');
  expectError(assert, await sato.get('/api/v1/applications'), 403, 'forbidden');
  expectError(assert, await sato.get('/api/v1/audit'), 403, 'forbidden');
  expectError(assert, await new Client(server.url).get('/api/v1/patients'), 401, 'unauthenticated');

  const after = (await admin.get('/api/v1/patients?limit=1')).json.total;
  assert.equal(after, before, 'no patient was stored by bad requests');

  const anon = new Client(server.url);
  const badCode = await anon.post('/api/v1/applications', {
    facility: { type: 'clinic', code: '0711234560', name: 'x', kana: 'エックス' },
    applicant_name: 'x', applicant_email: 'x@example.jp' });
  expectError(assert, badCode, 400, 'invalid_input');
  const facilities = await admin.get('/api/v1/facilities');
  const existing = facilities.json.items.find((f) => f.code);
  const dupCode = await anon.post('/api/v1/applications', {
    facility: { type: existing.type, code: existing.code, name: 'x', kana: 'エックス' },
    applicant_name: 'x', applicant_email: 'x@example.jp' });
  expectError(assert, dupCode, 409, 'conflict');
  const unknownType = await anon.post('/api/v1/applications', {
    facility: { type: 'spaceport', name: 'x', kana: 'エックス' }, applicant_name: 'x', applicant_email: 'x@example.jp' });
  expectError(assert, unknownType, 400, 'invalid_input');
});

test('logout ends the session', async () => {
  const c = new Client(server.url);
  assert.equal((await c.login('ns.suzuki')).status, 200);
  const cookie = c.cookie;
  const out = await c.post('/api/v1/auth/logout');
  assert.ok(out.status === 204 || out.status === 200);
  c.cookie = cookie;  // a stolen old cookie is useless
  expectError(assert, await c.get('/api/v1/auth/me'), 401, 'unauthenticated');
});

test('session cookie is HttpOnly and SameSite=Strict', async () => {
  const r = await fetch(server.url + '/api/v1/auth/login', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login_id: 'ph.tanaka', password: DEMO_PASSWORD }) });
  const c = r.headers.get('set-cookie');
  assert.match(c, /HttpOnly/i);
  assert.match(c, /SameSite=Strict/i);
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
});

