// On a 375 px phone the login page and the patient search fit the screen
// width (no sideways scrolling); an expired session and the language switch
// behave as a user expects.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, kDemoPassword } from './server.mjs';

let server;
let browser;
let page;

before(async () => {
  server = await startServer();
  browser = await launchBrowser({ viewport: { width: 375, height: 812 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function assertNoHorizontalOverflow(what) {
  const { scrollWidth, clientWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
  }));
  assert.ok(scrollWidth <= clientWidth, `${what}: page is ${scrollWidth}px wide on a ${clientWidth}px screen`);
}

test('login page fits a phone screen', async () => {
  await page.goto(`${server.baseUrl}/login`);
  await page.getByTestId('login-id').waitFor();
  await assertNoHorizontalOverflow('login');
  await page.screenshot({ path: '/tmp/tsunagu-e2e-phone-login.png' });
});

test('patient search with results fits a phone screen', async () => {
  await page.getByTestId('login-id').fill('dr.sato');
  await page.getByTestId('login-password').fill(kDemoPassword);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('greeting').waitFor();
  await page.goto(`${server.baseUrl}/patients`);
  await page.getByTestId('patient-q').waitFor();
  await assertNoHorizontalOverflow('patient search');
  await page.getByTestId('patient-search').click();
  await page.locator('[data-testid="patients-table"], [data-testid="patients-table-empty"]').first().waitFor();
  await assertNoHorizontalOverflow('patient search results');
  await page.screenshot({ path: '/tmp/tsunagu-e2e-phone-patients.png', fullPage: true });
});

test('an expired session sends the user back to the login page with a message', async () => {
  await page.goto(`${server.baseUrl}/patients`);
  await page.getByTestId('patient-q').waitFor();
  await browser.context.clearCookies();
  await page.getByTestId('patient-q').fill('さとう');
  await page.getByTestId('patient-search').click();
  await page.getByTestId('login-notice').waitFor();
  assert.match(await page.getByTestId('login-notice').innerText(), /セッションの有効期限が切れました/);
  assert.match(new URL(page.url()).searchParams.get('next') ?? '', /^\/patients/);
  await assertNoHorizontalOverflow('login after expiry');
});

test('the language switch turns a page into English and the choice persists', async () => {
  await page.goto(`${server.baseUrl}/apply`);
  await page.getByRole('heading', { name: '参加申請' }).waitFor();
  await page.getByTestId('lang-en').click();
  await page.getByRole('heading', { name: 'Application to join' }).waitFor();
  await page.reload();
  await page.getByRole('heading', { name: 'Application to join' }).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
  await assertNoHorizontalOverflow('application form');
  await page.getByTestId('lang-ja').click();
  await page.getByRole('heading', { name: '参加申請' }).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'ja');
});
