// Clinical documents through the browser: dr.sato (県北中央病院) uploads a PDF
// referral letter (診療情報提供書) for a patient registered at both his
// hospital and a clinic; dr.kato (the clinic) is told that consent is
// required, and once a clinical-sharing consent from the hospital to the
// clinic exists sees the letter in the documents tab and in the timeline,
// and opens it. A file that is not a PDF is refused with a clear message.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, apiSession, kDemoPassword } from './server.mjs';

const kHospital = '県北中央病院';
const kClinic = 'さくら通りファミリークリニック';
const person = {
  name: '文書 花子', kana: 'ブンショ ハナコ', birth: '1956-09-20', sex: 'female',
  phone: '024-555-0456', postcode: '9608031',
};
const kTitle = '紹介状（循環器内科 外来フォローのお願い）';

/** A small, complete one-page PDF written by hand. */
function minimalPdf() {
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 144] /Contents 4 0 R '
      + '/Resources << /Font << /F1 5 0 R >> >> >>',
    null, // the content stream, below
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  const stream = 'BT /F1 18 Tf 24 72 Td (Referral letter) Tj ET';
  objects[3] = `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`;
  let out = '%PDF-1.4\n';
  const offsets = [];
  objects.forEach((body, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) out += `${String(o).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

let server;
let hospital; // dr.sato's API session, for seeding
let regionalId = '';
let hospitalId = 0;
let clinicId = 0;
let sato; // { browser, page }
let kato;

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
  await page.screenshot({ path: `/tmp/tsunagu-e2e-documents-${name}.png`, fullPage: true });
}

async function openDocumentsTab(page) {
  await page.goto(`${server.baseUrl}/patients/${regionalId}?tab=documents`);
  await page.getByTestId('documents').waitFor();
}

before(async () => {
  server = await startServer();
  // The clinic registered the patient; the hospital links its own patient ID.
  const clinic = await apiSession(server.baseUrl, 'dr.kato', kDemoPassword);
  const created = await clinic.post('/patients', {
    name: person.name, kana: person.kana, birth_date: person.birth, sex: person.sex,
    phone: person.phone, postcode: person.postcode, local_id: 'SK-77001',
  });
  regionalId = created.regional_id;
  hospital = await apiSession(server.baseUrl, 'dr.sato', kDemoPassword);
  await hospital.post(`/patients/${regionalId}/links`, { local_id: 'H-88001', birth_date: person.birth });
  const { items } = await hospital.get('/facilities');
  hospitalId = items.find((f) => f.name === kHospital)?.id;
  clinicId = items.find((f) => f.name === kClinic)?.id;
  assert.ok(hospitalId && clinicId, 'the demo network has the hospital and the clinic');
  sato = await openAs('dr.sato');
  kato = await openAs('dr.kato');
});

after(async () => {
  await sato?.browser.close();
  await kato?.browser.close();
  await server?.stop();
});

test('dr.sato uploads a PDF referral letter from the documents tab', async () => {
  const { page } = sato;
  await openDocumentsTab(page);
  await page.getByTestId('documents-table-empty').waitFor();
  // The date defaults to today; the author to the user.
  assert.match(await page.getByTestId('doc-date').inputValue(), /^\d{4}-\d{2}-\d{2}$/);
  assert.notEqual(await page.getByTestId('doc-author').inputValue(), '');

  await page.getByTestId('doc-file').setInputFiles({ name: 'shokaijo.pdf', mimeType: 'application/pdf', buffer: minimalPdf() });
  await page.getByTestId('doc-type').selectOption('57133-1');
  await page.getByTestId('doc-title').fill(kTitle);
  await page.getByTestId('doc-date').fill('2026-01-15');
  await page.getByTestId('doc-description').fill('狭心症疑いにて精査をお願いします');
  await page.getByTestId('doc-submit').click();

  await page.getByTestId('doc-uploaded').waitFor();
  const row = page.getByTestId('doc-row').first();
  await row.waitFor();
  assert.equal(await row.getByTestId('doc-row-title').innerText(), kTitle);
  assert.match(await row.innerText(), /診療情報提供書/);
  assert.match(await row.innerText(), new RegExp(kHospital));
  await shot(page, 'uploaded');
});

test('a file that is not a PDF is refused and nothing is added', async () => {
  const { page } = sato;
  await page.getByTestId('doc-file').setInputFiles({ name: 'fake.pdf', mimeType: 'application/pdf', buffer: Buffer.from('<html>not a pdf</html>') });
  await page.getByTestId('doc-submit').click();
  const error = page.getByTestId('doc-upload').getByTestId('form-error');
  await error.waitFor();
  assert.match(await error.innerText(), /登録できません.*PDF/);
  await openDocumentsTab(page);
  await page.getByTestId('doc-row').first().waitFor();
  assert.equal(await page.getByTestId('doc-row').count(), 1);
});

test('dr.kato is told that consent is required, then sees and opens the letter', async () => {
  const { page } = kato;
  await openDocumentsTab(page);
  await page.getByTestId('consent-required').waitFor();
  assert.equal(await page.getByTestId('doc-row').count(), 0);

  await hospital.post(`/patients/${regionalId}/consents`, {
    scope: 'clinical_sharing', source_facility_id: hospitalId, viewer_facility_id: clinicId,
    valid_from: '2025-01-01', note: '外来にて本人署名',
  });
  await openDocumentsTab(page);
  const row = page.getByTestId('doc-row').first();
  await row.waitFor();
  const text = await row.innerText();
  assert.match(text, new RegExp(kTitle.replace(/[()（）]/g, '.')));
  assert.match(text, /診療情報提供書/);
  assert.match(text, new RegExp(kHospital));
  assert.match(text, /2026/);

  // 表示: the PDF opens in the viewer dialog, served with safe headers.
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().includes('/api/v1/documents/') && r.url().endsWith('/content')),
    row.getByTestId('doc-view').click(),
  ]);
  await page.getByTestId('doc-viewer').waitFor();
  assert.equal(await page.getByTestId('doc-frame').count(), 1);
  assert.equal(response.status(), 200);
  const headers = response.headers();
  assert.equal(headers['content-type'], 'application/pdf');
  assert.equal(headers['x-content-type-options'], 'nosniff');
  assert.match(headers['content-disposition'], /^inline; .*filename\*=UTF-8''/);
  assert.match(headers['cache-control'], /no-store/);
  const bytes = await page.request.get(response.url());
  assert.equal(bytes.status(), 200);
  assert.match((await bytes.body()).toString('latin1'), /^%PDF-1\.4[\s\S]*%%EOF\s*$/);
  await shot(page, 'viewer');
  await page.keyboard.press('Escape');

  // The letter is in the timeline too, with a way to open it.
  await page.goto(`${server.baseUrl}/patients/${regionalId}?tab=timeline`);
  const item = page.locator('[data-testid="tl-item"][data-category="document"]').first();
  await item.waitFor();
  assert.match(await item.innerText(), /紹介状/);
  await item.getByTestId('tl-view-document').click();
  await page.getByTestId('doc-frame').waitFor();
});

test('an unrelated user cannot fetch the content', async () => {
  const anonymous = await fetch(`${server.baseUrl}/api/v1/patients/${regionalId}/documents`);
  assert.equal(anonymous.status, 401);
  const list = await hospital.get(`/patients/${regionalId}/documents`);
  assert.equal(list.items.length, 1);
  const contentUrl = list.items[0].content_url;
  const noSession = await fetch(`${server.baseUrl}${contentUrl}`);
  assert.equal(noSession.status, 401);
});
