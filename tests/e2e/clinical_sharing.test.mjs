// Clinical data sharing through the browser: 県北中央病院 discloses HL7 data
// (allergies, a prescription, lab results) under its local patient ID; a
// clinic registered the same person. dr.sato (hospital) finds the regional
// patient through the master patient index instead of registering a
// duplicate, reads the timeline and the lab trend; dr.kato (clinic) is told
// that consent is required, sees the data once a clinical-sharing consent
// with a signed form is recorded, and is refused again after its withdrawal.
// Finally the secretariat merges a duplicate registration.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, launchBrowser, runTsunagu, apiSession, freshTotp, kDemoPassword, kDemoTotpSecret } from './server.mjs';

const repo = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const golden = join(repo, 'tests', 'golden', 'ssmix2');

const kHospital = '県北中央病院';
const kClinic = 'さくら通りファミリークリニック';
const hospitalLocalId = '7700123';
const clinicLocalId = 'SK-55501';
const person = {
  name: '山田 太郎', kana: 'ヤマダ タロウ', birth: '1970-04-15', sex: 'male',
  phone: '024-555-0123', postcode: '9608031',
};
// A 1×1 PNG: the scanned, signed consent form.
const kPng = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64');

let server;
let hl7Dir;
let clinic; // dr.kato's API session, for seeding
let sato; // { browser, page }
let kato;
let regionalId = '';

/**
 * The golden SS-MIX2 messages as UTF-8 (MSH-18 "UNICODE UTF-8") about our
 * local patient ID, plus two more lab messages so that AST has a trend.
 */
async function writeHl7Fixtures(dir) {
  const utf8 = (text) => text
    .replace('||~ISO IR87||ISO 2022-1994', '||UNICODE UTF-8')
    .replaceAll('0000123^^^^PI', `${hospitalLocalId}^^^^PI`);
  const files = [];
  const put = async (name, text) => {
    const path = join(dir, name);
    await writeFile(path, text);
    files.push(path);
  };
  for (const name of ['adt_a60_allergy', 'rde_o11_prescription', 'ppr_zd1_condition', 'adt_a04_visit', 'oul_r22_lab']) {
    await put(`${name}.hl7`, utf8(await readFile(join(golden, `${name}.hl7`), 'utf8')));
  }
  const lab = utf8(await readFile(join(golden, 'oul_r22_lab.hl7'), 'utf8'));
  // Earlier and later AST results: 35 (normal) in March, 62 (high) in May.
  await put('lab_march.hl7', lab.replaceAll('20240406', '20240301').replaceAll('44440001', '44440101')
    .replace('||45|U/L^^ISO+|10-40|H|', '||35|U/L^^ISO+|10-40|N|'));
  await put('lab_may.hl7', lab.replaceAll('20240406', '20240506').replaceAll('44440001', '44440201')
    .replace('||45|U/L^^ISO+|10-40|H|', '||62|U/L^^ISO+|10-40|H|'));
  return files;
}

async function openAs(loginId) {
  const browser = await launchBrowser();
  const page = browser.context.pages()[0] ?? (await browser.context.newPage());
  await page.goto(`${server.baseUrl}/login`);
  await page.getByTestId('login-id').fill(loginId);
  await page.getByTestId('login-password').fill(kDemoPassword);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('greeting').waitFor();
  return { browser, page };
}

async function shot(page, name) {
  await page.screenshot({ path: `/tmp/tsunagu-e2e-clinical-${name}.png`, fullPage: true });
}

before(async () => {
  server = await startServer();
  // The clinic registered the patient first, under its own patient ID.
  clinic = await apiSession(server.baseUrl, 'dr.kato', kDemoPassword);
  const created = await clinic.post('/patients', {
    name: person.name, kana: person.kana, birth_date: person.birth, sex: person.sex,
    phone: person.phone, postcode: person.postcode, local_id: clinicLocalId,
  });
  regionalId = created.regional_id;
  // The hospital discloses its HL7 data about its own patient ID.
  const { items } = await clinic.get(`/facilities?q=${encodeURIComponent(kHospital)}`);
  const hospital = items.find((f) => f.name === kHospital);
  assert.ok(hospital?.code, 'the demo hospital has a medical institution code');
  hl7Dir = await mkdtemp(join(tmpdir(), 'tsunagu-e2e-hl7-'));
  const files = await writeHl7Fixtures(hl7Dir);
  const { stdout } = await runTsunagu(['import', 'hl7', '--data', server.dataDir, '--facility', hospital.code, ...files]);
  assert.match(stdout, /messages imported\s+7/);
  sato = await openAs('dr.sato');
  kato = await openAs('dr.kato');
});

after(async () => {
  await sato?.browser.close();
  await kato?.browser.close();
  await server?.stop();
  if (hl7Dir) await rm(hl7Dir, { recursive: true, force: true });
});

test('registering the same person proposes the existing patient, and dr.sato links his local ID', async () => {
  const { page } = sato;
  await page.goto(`${server.baseUrl}/patients/new`);
  await page.getByTestId('pt-name').fill(person.name);
  await page.getByTestId('pt-kana').fill('やまだ たろう');
  await page.getByTestId('pt-birth').fill(person.birth);
  await page.getByTestId('pt-sex').selectOption(person.sex);
  await page.getByTestId('pt-postcode').fill(person.postcode);
  await page.getByTestId('pt-phone').fill(person.phone);
  await page.getByTestId('pt-local-id').fill(hospitalLocalId);
  await page.getByTestId('pt-submit').click();

  const row = page.getByTestId(`candidate-${regionalId}`);
  await row.waitFor();
  // Not linked at the hospital yet: only the masked kana, the score and the matches.
  assert.match(await row.getByTestId('candidate-masked').innerText(), /^ヤ＊+$/);
  assert.doesNotMatch(await row.innerText(), /山田/);
  assert.match(await row.getByTestId('candidate-score').innerText(), /100点/);
  assert.equal(await row.getByTestId('match-birth_date').getAttribute('data-level'), 'exact');
  await shot(page, 'candidates');

  await row.getByTestId('link-candidate').click();
  await page.waitForURL(`**/patients/${regionalId}`);
  await page.getByTestId('patient-name').waitFor();
  assert.equal(await page.getByTestId('patient-name').innerText(), person.name);
  const links = page.getByTestId('patient-links');
  assert.match(await links.innerText(), new RegExp(`${kHospital}[\\s\\S]*${hospitalLocalId}`));
  assert.match(await links.innerText(), new RegExp(kClinic));
});

test('dr.sato sees the allergies on top, the prescription and an abnormal lab value on the timeline', async () => {
  const { page } = sato;
  await page.getByTestId('tab-timeline').click();
  await page.getByTestId('timeline-list').waitFor();
  assert.match(page.url(), /\?tab=timeline$/);

  const allergies = page.getByTestId('allergies');
  assert.match(await allergies.innerText(), /ペニシリン系抗生物質/);
  assert.match(await allergies.innerText(), /卵/);
  // The allergy bar comes before the list.
  const order = await page.evaluate(() => {
    const a = document.querySelector('[data-testid="allergies"]');
    const l = document.querySelector('[data-testid="timeline-list"]');
    return a && l ? a.compareDocumentPosition(l) & Node.DOCUMENT_POSITION_FOLLOWING : 0;
  });
  assert.ok(order, 'allergies are pinned above the list');

  const rx = page.locator('[data-testid="tl-item"][data-category="prescription"]', { hasText: 'ムコダイン' });
  await rx.first().waitFor();
  const rxText = await rx.first().innerText();
  assert.match(rxText, /620002023/, 'YJ code');
  assert.match(rxText, /7日分/);
  assert.match(rxText, new RegExp(`提供元：${kHospital}`));

  // 23 entries: the first page holds 20, "さらに表示" brings the rest.
  assert.equal(await page.getByTestId('timeline-count').innerText(), '全23件');
  assert.equal(await page.getByTestId('tl-item').count(), 20);
  await page.getByTestId('timeline-more').click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="tl-item"]').length === 23);
  assert.equal(await page.getByTestId('timeline-more').count(), 0);
  const ast = page.locator('[data-testid="tl-item"][data-category="lab_result"]', { hasText: 'ＡＳＴ' });
  assert.equal(await ast.count(), 3);
  const high = ast.filter({ hasText: '62' });
  assert.equal(await high.getByTestId('lab-flag').innerText(), 'H');
  assert.match(await high.getByTestId('lab-value').getAttribute('class'), /abnormal-high/);

  // Newest first: the May lab day comes before the April prescriptions.
  const days = await page.getByTestId('tl-day').evaluateAll((els) => els.map((e) => e.getAttribute('data-day')));
  assert.deepEqual([...days].sort().reverse(), days);
  assert.equal(days[0], '2024-05-06');
  await shot(page, 'timeline');

  // Filtering by category keeps only prescriptions (allergies stay pinned).
  await page.getByTestId('filter-prescription').click();
  // The list reloads: wait until it shows items again, all of them prescriptions.
  await page.waitForFunction(() => {
    const items = [...document.querySelectorAll('[data-testid="tl-item"]')];
    return items.length > 0 && items.every((e) => e.dataset.category === 'prescription');
  });
  const categories = await page.getByTestId('tl-item').evaluateAll((els) => [...new Set(els.map((e) => e.dataset.category))]);
  assert.deepEqual(categories, ['prescription']);
  assert.match(await page.getByTestId('allergies').innerText(), /ペニシリン/);
  await page.getByTestId('filter-clear').click();
  await page.locator('[data-testid="tl-item"][data-category="lab_result"]').first().waitFor();

  // A period keeps only that day.
  await page.getByTestId('filter-from').fill('2024-04-04');
  await page.getByTestId('filter-to').fill('2024-04-04');
  await page.getByTestId('filter-apply').click();
  await page.waitForFunction(() => {
    const days = [...document.querySelectorAll('[data-testid="tl-day"]')];
    return days.length > 0 && days.every((e) => e.getAttribute('data-day') === '2024-04-04');
  });
  const filteredDays = await page.getByTestId('tl-day').evaluateAll((els) => els.map((e) => e.getAttribute('data-day')));
  assert.deepEqual(filteredDays, ['2024-04-04']);
  await page.getByTestId('filter-clear').click();
  await page.locator('[data-testid="tl-day"][data-day="2024-05-06"]').waitFor();
});

test('the lab table marks abnormal cells and a test opens its trend chart', async () => {
  const { page } = sato;
  await page.getByTestId('tab-labs').click();
  const table = page.getByTestId('lab-table');
  await table.waitFor();
  const headers = await table.locator('thead th').allInnerTexts();
  assert.deepEqual(headers.slice(2), ['2024/5/6', '2024/4/6', '2024/3/1']);
  assert.ok(await table.getByTestId('lab-cell-abnormal').count() >= 2, 'abnormal cells are marked');

  await table.getByTestId('lab-test').filter({ hasText: 'ＡＳＴ' }).click();
  const trend = page.getByTestId('lab-trend');
  await trend.waitFor();
  const chart = trend.locator('svg.chart-svg');
  await chart.waitFor();
  assert.equal(await chart.locator('[data-testid="chart-point"]').count(), 1, 'one normal AST value');
  assert.equal(await chart.locator('[data-testid="chart-point-abnormal"]').count(), 2, 'two high AST values');
  assert.equal(await chart.locator('[data-testid="chart-range"]').count(), 1, 'the reference range band');
  assert.match(await chart.getAttribute('aria-label'), /ＡＳＴ/);
  const values = await trend.getByTestId('lab-value-row').allInnerTexts();
  assert.equal(values.length, 3);
  assert.match(values[0], /62[\s\S]*H/);
  await shot(page, 'labs');
});

test('dr.kato of another facility is told that consent is required', async () => {
  const { page } = kato;
  await page.goto(`${server.baseUrl}/patients/${regionalId}?tab=timeline`);
  const notice = page.getByTestId('consent-required');
  await notice.waitFor();
  assert.match(await notice.innerText(), /同意が必要です/);
  assert.equal(await page.getByTestId('tl-item').count(), 0);
  await shot(page, 'consent-required');
  // The explanation leads to the consent tab.
  await notice.getByTestId('go-consents').click();
  await page.getByTestId('consents-empty').waitFor();
  assert.match(page.url(), /\?tab=consents$/);
});

test('dr.sato records a clinical-sharing consent for the clinic with the signed form', async () => {
  const { page } = sato;
  await page.getByTestId('tab-consents').click();
  await page.getByTestId('consents-empty').waitFor();
  await page.getByTestId('consent-new').click();
  await page.getByTestId('consent-scope').selectOption('clinical_sharing');
  assert.equal(await page.getByTestId('consent-source').locator('option:checked').innerText(), kHospital);
  await page.getByTestId('consent-viewer').selectOption({ label: kClinic });
  assert.match(await page.getByTestId('consent-from').inputValue(), /^\d{4}-\d{2}-\d{2}$/);
  await page.getByTestId('consent-note').fill('外来にて本人署名');
  await page.getByTestId('consent-file').setInputFiles({ name: 'doui.png', mimeType: 'image/png', buffer: kPng });
  await page.getByTestId('consent-submit').click();

  const row = page.getByTestId('consents-table').locator('tbody tr').first();
  await row.getByTestId('consent-form-attached').waitFor();
  assert.equal(await row.getByTestId('consent-status').innerText(), '有効');
  assert.match(await row.innerText(), /診療情報共有/);
  assert.match(await row.innerText(), new RegExp(kClinic));
  await shot(page, 'consents');

  // The attached form can be viewed.
  await row.getByTestId('consent-form-view').click();
  const image = page.getByTestId('form-image');
  await image.waitFor();
  assert.ok(await image.evaluate((img) => img.complete && img.naturalWidth === 1), 'the signed form is shown');
  await page.keyboard.press('Escape');
});

test('with the consent, dr.kato sees the hospital’s timeline', async () => {
  const { page } = kato;
  await page.goto(`${server.baseUrl}/patients/${regionalId}?tab=timeline`);
  await page.getByTestId('timeline-list').waitFor();
  assert.match(await page.getByTestId('allergies').innerText(), /ペニシリン系抗生物質/);
  assert.ok(await page.locator('[data-testid="tl-item"][data-category="prescription"]').count() > 0);
  assert.equal(await page.getByTestId('consent-required').count(), 0);
  // Fits a phone screen too.
  await page.setViewportSize({ width: 375, height: 812 });
  const { scrollWidth, clientWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth,
  }));
  assert.ok(scrollWidth <= clientWidth, `timeline is ${scrollWidth}px wide on a ${clientWidth}px screen`);
  await shot(page, 'timeline-phone');
  await page.setViewportSize({ width: 1280, height: 900 });
});

test('after the consent is withdrawn dr.kato is refused again', async () => {
  const { page } = sato;
  const row = page.getByTestId('consents-table').locator('tbody tr').first();
  await row.getByTestId('consent-withdraw').click();
  await page.getByTestId('confirm-ok').click();
  await row.getByTestId('consent-status').filter({ hasText: '撤回済み' }).waitFor();
  assert.equal(await row.getByTestId('consent-withdraw').count(), 0);

  await kato.page.reload();
  await kato.page.getByTestId('consent-required').waitFor();
  assert.equal(await kato.page.getByTestId('tl-item').count(), 0);
});

test('the secretariat finds a duplicate registration and merges it', async () => {
  const duplicate = await clinic.post('/patients', {
    name: person.name, kana: person.kana, birth_date: person.birth, sex: person.sex, local_id: 'SK-55502',
  });
  const admin = await launchBrowser();
  try {
    const page = admin.context.pages()[0] ?? (await admin.context.newPage());
    await page.goto(`${server.baseUrl}/login`);
    await page.getByTestId('login-id').fill('admin');
    await page.getByTestId('login-password').fill(kDemoPassword);
    await page.getByTestId('login-submit').click();
    await page.getByTestId('totp-code').fill(await freshTotp(kDemoTotpSecret));
    await page.getByTestId('totp-submit').click();
    await page.getByTestId('greeting').waitFor();

    await page.goto(`${server.baseUrl}/patients/${regionalId}`);
    await page.getByTestId('find-duplicates').click();
    const row = page.getByTestId(`candidate-${duplicate.regional_id}`);
    await row.waitFor();
    assert.match(await row.innerText(), /山田 太郎/, 'the secretariat sees candidates in full');
    assert.equal(await page.getByTestId(`candidate-${regionalId}`).count(), 0, 'the patient itself is not offered');
    await row.getByTestId('merge-candidate').click();
    await page.getByTestId('confirm-ok').click();
    await page.getByTestId('toast-success').filter({ hasText: '統合しました' }).waitFor();
    await page.getByTestId('link-' + (await clinic.get('/facilities?q=' + encodeURIComponent(kClinic))).items[0].id + '-SK-55502').waitFor();
    // The secretariat sees no clinical data, and is told so.
    await page.getByTestId('tab-timeline').click();
    assert.match(await page.getByTestId('consent-required').innerText(), /事務局は診療情報を閲覧できません/);
  } finally {
    await admin.close();
  }
  await assert.rejects(clinic.get(`/patients/${duplicate.regional_id}`), /404/);
});
