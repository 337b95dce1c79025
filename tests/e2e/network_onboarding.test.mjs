// End to end through the browser: a facility applies, the secretariat
// approves it, the new facility admin accepts the invitation and enrols TOTP,
// creates a nurse, the nurse changes the forced password, registers and finds
// a patient, and the secretariat sees the nurse's access in the audit log.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, freshTotp, kDemoPassword, kDemoTotpSecret } from './server.mjs';

let server;
let browser;
let page;

const facility = {
  name: '桜川記念病院',
  kana: 'サクラガワキネンビョウイン',
  code: '4011111111',
  email: 'jimu@sakuragawa.example.jp',
};
const admin = { loginId: 'sakura-admin', name: '山田 花子', password: 'sakura-admin-pass-2026' };
const nurse = { loginId: 'ns.tanaka', name: '田中 美咲', initial: 'tanaka-initial-2026', password: 'tanaka-new-password-2026' };
const patient = { name: '佐々木 一郎', kana: 'ササキ イチロウ', birth: '1948-05-12', localId: 'SK-000123' };

async function shot(name) {
  await page.screenshot({ path: `/tmp/tsunagu-e2e-${name}.png`, fullPage: true });
}

async function logIn(loginId, password, totpSecret) {
  await page.goto(`${server.baseUrl}/login`);
  await page.getByTestId('login-id').fill(loginId);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  if (totpSecret) {
    await page.getByTestId('totp-code').fill(await freshTotp(totpSecret));
    await page.getByTestId('totp-submit').click();
  }
}

async function logOut() {
  await page.getByTestId('user-menu').click();
  await page.getByTestId('logout').click();
  await page.getByTestId('login-id').waitFor();
}

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

let invitationPath = '';
let regionalId = '';

test('a facility submits a participation application without logging in', async () => {
  await page.goto(`${server.baseUrl}/apply`);
  await page.getByRole('heading', { name: '参加申請' }).waitFor();
  await page.getByTestId('apply-type').selectOption('hospital');
  await page.getByTestId('apply-code').fill(facility.code);
  await page.getByTestId('apply-name').fill(facility.name);
  await page.getByTestId('apply-kana').fill(facility.kana);
  await page.getByTestId('apply-postcode').fill('960-8611');
  await page.getByTestId('apply-address').fill('福島県福島市桜川1-2-3');
  await page.getByTestId('apply-phone').fill('024-521-0000');
  const area = page.getByTestId('apply-area');
  const areaValues = await area.locator('option').evaluateAll((os) => os.map((o) => o.value).filter(Boolean));
  assert.ok(areaValues.length > 0, 'the secondary medical areas are offered');
  await area.selectOption(areaValues[0]);
  await page.getByTestId('apply-departments').fill('内科、外科、整形外科');
  await page.getByTestId('apply-applicant-name').fill('山田 花子');
  await page.getByTestId('apply-applicant-email').fill(facility.email);
  await page.getByTestId('apply-applicant-phone').fill('024-521-0001');
  await shot('apply');
  await page.getByTestId('apply-submit').click();
  await page.getByTestId('apply-thanks').waitFor();
  assert.match(await page.getByTestId('application-id').innerText(), /\S/);
});

test('the secretariat logs in with two factors and approves the application', async () => {
  await logIn('admin', kDemoPassword, kDemoTotpSecret);
  await page.getByTestId('greeting').waitFor();
  await page.getByRole('link', { name: '参加申請' }).first().click();
  const row = page.getByTestId('applications-table').locator('tr', { hasText: facility.name });
  await row.waitFor();
  await row.getByTestId('approve').click();
  await page.getByTestId('confirm-ok').click();
  const url = await page.getByTestId('invitation-url').inputValue();
  assert.match(url, /\/invite\/[^/]+$/);
  invitationPath = new URL(url, server.baseUrl).pathname;
  await shot('approved');
  await page.keyboard.press('Escape');
  await logOut();
});

test('the new facility admin accepts the invitation', async () => {
  await page.goto(server.baseUrl + invitationPath);
  await page.getByTestId('invite-facility').waitFor();
  assert.match(await page.getByTestId('invite-facility').innerText(), new RegExp(facility.name));
  assert.equal(await page.getByTestId('invite-email').innerText(), facility.email);
  await page.getByTestId('invite-login-id').fill(admin.loginId);
  await page.getByTestId('invite-display-name').fill(admin.name);
  await page.getByTestId('invite-kana').fill('ヤマダ ハナコ');
  await page.getByTestId('invite-password').fill(admin.password);
  await page.getByTestId('invite-confirm').fill(admin.password);
  await page.getByTestId('invite-submit').click();
  await page.getByTestId('invite-done').waitFor();
});

test('the facility admin enrols TOTP at the first login and adds a nurse', async () => {
  await logIn(admin.loginId, admin.password);
  await page.getByTestId('forced-totp').waitFor();
  const secret = (await page.getByTestId('totp-secret').innerText()).replace(/\s+/g, '');
  assert.match(secret, /^[A-Z2-7]+=*$/);
  assert.ok(await page.getByTestId('totp-qr').evaluate((img) => img.complete && img.naturalWidth > 0), 'the QR code renders');
  await shot('totp-enrol');
  await page.getByTestId('totp-confirm-code').fill(await freshTotp(secret));
  await page.getByTestId('totp-confirm').click();
  await page.getByTestId('greeting').waitFor();
  assert.match(await page.getByTestId('whoami').innerText(), new RegExp(facility.name));

  await page.getByRole('link', { name: '職員管理' }).first().click();
  await page.getByTestId('add-user').click();
  await page.getByTestId('user-login-id').fill(nurse.loginId);
  await page.getByTestId('user-display-name').fill(nurse.name);
  await page.getByTestId('user-kana').fill('タナカ ミサキ');
  await page.getByTestId('user-occupation').selectOption('nurse');
  await page.getByTestId('user-role').selectOption('staff');
  await page.getByTestId('user-password').fill(nurse.initial);
  await page.getByTestId('user-submit').click();
  const row = page.getByTestId(`user-${nurse.loginId}`);
  await row.waitFor();
  assert.match(await row.innerText(), /看護師/);
  await shot('staff');
  await logOut();
});

test('the nurse changes the forced password, registers and finds a patient', async () => {
  await logIn(nurse.loginId, nurse.initial);
  await page.getByTestId('forced-password').waitFor();
  await page.getByTestId('current-password').fill(nurse.initial);
  await page.getByTestId('new-password').fill(nurse.password);
  await page.getByTestId('confirm-password').fill(nurse.password);
  await page.getByTestId('password-submit').click();
  // Either the session continues, or the server asks for a fresh login.
  await page.locator('[data-testid="greeting"], [data-testid="login-notice"]').first().waitFor();
  if (await page.getByTestId('login-notice').count()) {
    await logIn(nurse.loginId, nurse.password);
  }
  await page.getByTestId('greeting').waitFor();
  assert.match(await page.getByTestId('whoami').innerText(), /看護師/);

  await page.goto(`${server.baseUrl}/patients/new`);
  await page.getByTestId('pt-name').fill(patient.name);
  await page.getByTestId('pt-kana').fill(patient.kana);
  await page.getByTestId('pt-birth').fill(patient.birth);
  await page.getByTestId('pt-sex').selectOption('male');
  await page.getByTestId('pt-postcode').fill('960-8611');
  await page.getByTestId('pt-address').fill('福島県福島市杉妻町2-16');
  await page.getByTestId('pt-phone').fill('024-000-1234');
  await page.getByTestId('pt-local-id').fill(patient.localId);
  await page.getByTestId('pt-submit').click();
  await page.getByTestId('patient-name').waitFor();
  assert.equal(await page.getByTestId('patient-name').innerText(), patient.name);
  regionalId = (await page.getByTestId('patient-rid').innerText()).replace(/\D/g, '');
  assert.match(regionalId, /^\d{12}$/);

  await page.getByRole('link', { name: '患者検索' }).first().click();
  await page.getByTestId('patient-q').fill('ささき');
  await page.getByTestId('patient-search').click();
  const hit = page.getByTestId(`patient-${regionalId}`);
  await hit.waitFor();
  assert.match(await hit.innerText(), /佐々木 一郎/);
  await shot('patient-search');
  await hit.getByTestId('patient-link').click();
  await page.getByTestId('patient-demographics').waitFor();
  assert.match(await page.getByTestId('patient-demographics').innerText(), /ササキ イチロウ/);
  await page.getByTestId('tab-access').click();
  const history = page.getByTestId('audit-table');
  await history.waitFor();
  assert.match(await history.innerText(), new RegExp(nurse.name));
  await shot('patient-access');
  await logOut();
});

test('the secretariat sees the nurse reading the patient in the audit log', async () => {
  await logIn('admin', kDemoPassword, kDemoTotpSecret);
  await page.getByTestId('greeting').waitFor();
  await page.getByRole('link', { name: '監査ログ' }).first().click();
  await page.getByTestId('audit-patient').fill(regionalId);
  await page.getByTestId('audit-search').click();
  const row = page.getByTestId('audit-table').locator('tbody tr', { hasText: '患者情報の閲覧' }).filter({ hasText: nurse.name });
  await row.first().waitFor();
  const text = await row.first().innerText();
  assert.match(text, new RegExp(facility.name));
  assert.match(text, /\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2}/, 'time shown as Japan local time');
  assert.match(text, /127\.0\.0\.1/);
  await shot('audit');
});
