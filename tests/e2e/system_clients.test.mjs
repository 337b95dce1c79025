// End to end through the browser: the secretariat registers a system client
// (an EHR that will call the FHIR API) by pasting its PEM public key, copies
// the client_id, and disables the client again after confirming.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { startServer, launchBrowser, freshTotp, kDemoPassword, kDemoTotpSecret } from './server.mjs';

let server;
let browser;
let page;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('the secretariat registers and disables a system client', async () => {
  await page.goto(`${server.baseUrl}/login`);
  await page.getByTestId('login-id').fill('admin');
  await page.getByTestId('login-password').fill(kDemoPassword);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('totp-code').fill(await freshTotp(kDemoTotpSecret));
  await page.getByTestId('totp-submit').click();

  await page.getByRole('link', { name: 'システム連携クライアント' }).first().click();
  await page.getByRole('heading', { name: 'システム連携クライアント' }).waitFor();
  await page.getByTestId('system-clients-table-empty').waitFor();

  await page.getByTestId('register-client').click();
  await page.getByTestId('client-name').fill('つなぐ総合病院 電子カルテ');
  const facility = page.getByTestId('client-facility');
  const hospital = await facility.locator('option').filter({ hasText: '病院' }).first().getAttribute('value');
  await facility.selectOption(hospital);
  await page.getByTestId('scope-more').fill('system/Observation.cru');
  // A private key is refused with a plain message.
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  await page.getByTestId('client-public-key').fill(privateKey.export({ format: 'pem', type: 'pkcs8' }));
  await page.getByTestId('client-submit').click();
  await page.getByTestId('form-error').filter({ hasText: 'private key' }).waitFor();

  await page.getByTestId('client-public-key').fill(publicKey.export({ format: 'pem', type: 'spki' }));
  await page.getByTestId('client-submit').click();
  const clientId = await page.getByTestId('new-client-id').inputValue();
  assert.match(clientId, /^[A-Za-z0-9_-]{24}$/);
  assert.equal(await page.getByTestId('token-endpoint').inputValue(), `${server.baseUrl}/oauth/token`);
  await page.keyboard.press('Escape');

  const row = page.getByTestId(`client-${clientId}`);
  await row.waitFor();
  assert.match(await row.innerText(), /system\/\*\.read system\/Observation\.cru/);
  assert.match(await row.getByTestId('client-status').innerText(), /有効/);

  await row.getByTestId('disable-client').click();
  await page.getByTestId('confirm-ok').click();
  await row.getByTestId('client-status').filter({ hasText: '無効' }).waitFor();
  assert.equal(await row.getByTestId('disable-client').count(), 0);
});
