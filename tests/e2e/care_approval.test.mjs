// A network that requires the secretariat's approval of new care groups: a
// physician's new group shows that it waits, the secretariat approves it on
// its screen, and the group opens.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, apiSession, freshTotp, kDemoPassword, kDemoTotpSecret } from './server.mjs';

let server;
const browsers = [];

before(async () => { server = await startServer({ extraArgs: ['--care-group-approval'] }); });
after(async () => {
  for (const b of browsers) await b.close().catch(() => {});
  await server?.stop();
});

async function page(loginId, totpSecret) {
  const browser = await launchBrowser();
  browsers.push(browser);
  const p = browser.context.pages()[0] ?? (await browser.context.newPage());
  await p.goto(`${server.baseUrl}/login`);
  await p.getByTestId('login-id').fill(loginId);
  await p.getByTestId('login-password').fill(kDemoPassword);
  await p.getByTestId('login-submit').click();
  if (totpSecret) {
    await p.getByTestId('totp-code').fill(await freshTotp(totpSecret));
    await p.getByTestId('totp-submit').click();
  }
  await p.getByTestId('greeting').waitFor();
  return p;
}

test('the secretariat approves a new care group and it opens', async () => {
  // dr.kato creates a group for one of the clinic's patients without one.
  const kato = await apiSession(server.baseUrl, 'dr.kato', kDemoPassword);
  const patients = (await kato.get('/patients?limit=50')).items;
  const taken = new Set((await kato.get('/care/groups')).items.map((g) => g.regional_id));
  const patient = patients.find((p) => !taken.has(p.regional_id));
  const created = await kato.post('/care/groups', { regional_id: patient.regional_id, name: '承認テストのチーム' });
  assert.equal(created.approval, 'pending');
  const gid = created.id;

  const doctor = await page('dr.kato');
  await doctor.goto(`${server.baseUrl}/care/groups/${gid}`);
  assert.match(await doctor.getByTestId('care-approval-notice').innerText(), /承認待ち/);

  const admin = await page('admin', kDemoTotpSecret);
  await admin.getByRole('link', { name: 'ケアグループ承認' }).first().click();
  const row = admin.getByTestId(`care-approval-${gid}`);
  await row.waitFor();
  assert.match(await row.innerText(), /承認テストのチーム/);
  await row.getByTestId('care-approve').click();
  await admin.getByTestId('confirm-ok').click();
  await admin.getByTestId('toast-success').filter({ hasText: '承認テストのチーム' }).waitFor();
  await admin.getByTestId('care-approvals-table-empty').waitFor();

  await doctor.reload();
  await doctor.getByTestId('tab-timeline').waitFor();
  assert.equal(await doctor.getByTestId('care-approval-notice').count(), 0);
});
