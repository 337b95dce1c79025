// お薬手帳データ取込 through the browser: ph.tanaka (pharmacist, 県北みどり薬局)
// registered a patient at her pharmacy; she chooses the patient's JAHIS
// medication notebook file, checks the preview, imports it and sees the
// dispensing on the timeline with her pharmacy as the source. A notebook of
// another person is refused with an explanation, and the preview works on a
// phone-sized screen.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, launchBrowser, apiSession, kDemoPassword } from './server.mjs';

const kPharmacy = '県北みどり薬局';
const person = {
  name: '薬師寺 三郎', kana: 'ヤクシジ サブロウ', birth: '1951-02-14', sex: 'male', local_id: 'MD-24017',
};

let server;
let dir;
let regionalId = '';
let goodFile = '';
let otherPersonFile = '';

/** A JAHIS notebook (UTF-8, CRLF) of one dispensing at the pharmacy. */
function notebook(pharmacyCode, { name, kana, birth }) {
  const pref = pharmacyCode.slice(0, 2);
  const table = pharmacyCode.slice(2, 3);
  const code = pharmacyCode.slice(3);
  return [
    'JAHISTC04,1',
    `1,${name.replace(' ', '　')},1,${birth.replaceAll('-', '')},,,,,,,${kana.replace(' ', '　')}`,
    '5,20251103,1',
    `11,${kPharmacy},${pref},${table},${code},9608031,福島市栄町２－４,024-500-0600,1`,
    '15,田中　洋子,,1',
    '51,信夫山内科クリニック,07,1,7654321,1',
    '55,佐藤　一郎,内科,1',
    '201,1,アムロジピン錠５ｍｇ「サワイ」,1,錠,4,2171022F1193,1',
    '301,1,１日１回朝食後,28,日分,1,,,1',
    '201,2,ロキソプロフェンＮａ錠６０ｍｇ,1,錠,4,1149019F1560,1',
    '301,2,疼痛時,10,回分,3,,,1',
    '999,拡張レコード,1',
    '',
  ].join('\r\n');
}

async function openAs(loginId, options) {
  const browser = await launchBrowser(options);
  const page = browser.context.pages()[0] ?? (await browser.context.newPage());
  await page.goto(`${server.baseUrl}/login`);
  await page.getByTestId('login-id').fill(loginId);
  await page.getByTestId('login-password').fill(kDemoPassword);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('greeting').waitFor();
  return { browser, page };
}

async function shot(page, name) {
  await page.screenshot({ path: `/tmp/tsunagu-e2e-dispensing-${name}.png`, fullPage: true });
}

before(async () => {
  server = await startServer();
  const pharmacist = await apiSession(server.baseUrl, 'ph.tanaka', kDemoPassword);
  const created = await pharmacist.post('/patients', {
    name: person.name, kana: person.kana, birth_date: person.birth, sex: person.sex, local_id: person.local_id,
  });
  regionalId = created.regional_id;
  const { items } = await pharmacist.get(`/facilities?q=${encodeURIComponent(kPharmacy)}`);
  const pharmacy = items.find((f) => f.name === kPharmacy);
  assert.ok(pharmacy?.code, 'the demo pharmacy has a medical institution code');
  dir = await mkdtemp(join(tmpdir(), 'tsunagu-e2e-jahis-'));
  goodFile = join(dir, 'okusuri.csv');
  otherPersonFile = join(dir, 'other.csv');
  await writeFile(goodFile, notebook(pharmacy.code, person));
  await writeFile(otherPersonFile, notebook(pharmacy.code, { ...person, birth: '1951-02-15' }));
});

after(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('ph.tanaka imports a notebook file and sees the dispensing on the timeline', async () => {
  const { browser, page } = await openAs('ph.tanaka');
  try {
    await page.goto(`${server.baseUrl}/patients/${regionalId}`);
    await page.getByTestId('patient-name').waitFor();
    await page.getByTestId('tab-dispensing').click();
    assert.match(page.url(), /\?tab=dispensing$/);

    // A notebook of someone else: refused, nothing imported.
    await page.getByTestId('dispensing-file').setInputFiles(otherPersonFile);
    const error = page.getByTestId('dispensing').getByTestId('form-error');
    await error.waitFor();
    assert.match(await error.innerText(), /一致しません/);
    assert.equal(await page.getByTestId('dispensing-preview').count(), 0);

    // The right file: a preview first.
    await page.getByTestId('dispensing-file').setInputFiles(goodFile);
    const preview = page.getByTestId('dispensing-preview');
    await preview.waitFor();
    assert.match(await preview.locator('h3').innerText(), /調剤1回・薬2件/);
    const drugs = await preview.getByTestId('dispensing-drugs').innerText();
    assert.match(drugs, /アムロジピン錠５ｍｇ「サワイ」/);
    assert.match(drugs, /28日分/);
    assert.match(drugs, /2171022F1193/);
    assert.match(await preview.getByTestId('dispensing-problems').innerText(), /12行目/);
    await shot(page, 'preview');

    await page.getByTestId('dispensing-confirm').click();
    const result = page.getByTestId('dispensing-result');
    await result.waitFor();
    assert.match(await result.innerText(), /薬2件を取り込みました（新規2件/);
    await shot(page, 'result');

    await page.getByTestId('dispensing-to-timeline').click();
    await page.waitForURL(`**/patients/${regionalId}?tab=timeline`);
    const item = page.locator('[data-testid="tl-item"][data-category="dispensing"]', { hasText: 'アムロジピン' });
    await item.first().waitFor();
    const text = await item.first().innerText();
    assert.match(text, new RegExp(`提供元：${kPharmacy}`));
    assert.match(text, /１日１回朝食後/);
    assert.equal(await page.locator('[data-testid="tl-item"][data-category="dispensing"]').count(), 2);
    await shot(page, 'timeline');

    // The same file again changes nothing.
    await page.getByTestId('tab-dispensing').click();
    await page.getByTestId('dispensing-file').setInputFiles(goodFile);
    await page.getByTestId('dispensing-confirm').click();
    await page.getByTestId('dispensing-result').waitFor();
    assert.match(await page.getByTestId('dispensing-result').innerText(), /新規0件・取込済み2件/);
  } finally {
    await browser.close();
  }
});

test('the preview fits a phone screen', async () => {
  const { browser, page } = await openAs('ph.tanaka', { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  try {
    await page.goto(`${server.baseUrl}/patients/${regionalId}?tab=dispensing`);
    await page.getByTestId('dispensing-file').setInputFiles(goodFile);
    const preview = page.getByTestId('dispensing-preview');
    await preview.waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `no sideways scrolling (overflow ${overflow}px)`);
    await shot(page, 'phone');
  } finally {
    await browser.close();
  }
});
