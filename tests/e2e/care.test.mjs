// The care SNS (多職種連携) in the browser, as a home-care team uses it:
// dr.kato (family doctor) opens a care group from the patient page, invites
// the visiting nurse ns.suzuki and a family member, and posts today's status
// from the template with a photo taken on the spot. The nurse, on a phone,
// sees the post appear live, opens it, and the doctor sees "read by 1". A
// post published to the family is the only one the family member sees.
// Free-word search finds the post by a Japanese word.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, apiSession, freshTotp, kDemoPassword, kDemoTotpSecret } from './server.mjs';

const kGroupName = 'ケアチームE2E';
const kStatusTitle = '訪問診療（定期）';
const kStatusBody = '足のむくみは軽減。食欲も戻ってきました。';
const kFamilyBody = 'ご家族へ：本日の訪問では穏やかに過ごされていました。';
const kFamilyLogin = 'family.e2e';
const kFamilyPassword = 'kazoku-e2e-password-2026';

/** A small valid PNG (8x8, teal) as a camera photo stand-in. */
function photoPng() {
  return Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAEUlEQVR4nGPgzyvBihiGlgQAceE8Qex/fHkAAAAASUVORK5CYII=',
    'base64');
}

let server;
let patient;
let nurseId = 0;
let familyId = 0;
let gid = 0;
let doctorCookie = '';
const contexts = [];
const pages = {}; // doctor, nurse, family: kept open for the later tests

async function fetchJson(path, cookie, init = {}) {
  const r = await fetch(`${server.baseUrl}/api/v1${path}`, { ...init, headers: { Cookie: cookie, ...(init.headers ?? {}) } });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : undefined };
}

/** Logs in through the JSON API, with the second factor when asked. */
async function apiLogin(loginId, password, totpSecret) {
  let r = await fetch(`${server.baseUrl}/api/v1/auth/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ login_id: loginId, password }),
  });
  let cookie = r.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  let body = await r.json();
  if (body.mfa_required) {
    r = await fetch(`${server.baseUrl}/api/v1/auth/login/totp`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ mfa_token: body.mfa_token, code: await freshTotp(totpSecret) }),
    });
    cookie = r.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    body = await r.json();
  }
  assert.ok(body.user, `login ${loginId}: ${JSON.stringify(body)}`);
  return { cookie, csrf: body.csrf_token, user: body.user };
}

async function openAs(loginId, password = kDemoPassword, options = {}) {
  const browser = await launchBrowser(options);
  contexts.push(browser);
  const page = browser.context.pages()[0] ?? (await browser.context.newPage());
  await page.goto(`${server.baseUrl}/login`);
  await page.getByTestId('login-id').fill(loginId);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('greeting').waitFor();
  return page;
}

async function shot(page, name) {
  await page.screenshot({ path: `/tmp/tsunagu-e2e-care-${name}.png`, fullPage: true });
}

before(async () => {
  server = await startServer();
  const kato = await apiSession(server.baseUrl, 'dr.kato', kDemoPassword);
  // A patient of the clinic without a care group yet (one active group per patient).
  patient = await kato.post('/patients', {
    name: '在宅 一郎', kana: 'ザイタク イチロウ', birth_date: '1938-07-03', sex: 'male',
    phone: '024-555-0789', postcode: '9600102', local_id: 'CARE-E2E-001',
  });
  // The patient agreed to the care team and to family sharing.
  await kato.post(`/patients/${patient.regional_id}/consents`, { scope: 'care_team', valid_from: '2025-01-01', note: '在宅ケアチーム' });
  await kato.post(`/patients/${patient.regional_id}/consents`, { scope: 'family', valid_from: '2025-01-01', note: '長女' });

  // The secretariat opens an account for the patient's daughter; she sets her own password.
  const admin = await apiLogin('admin', kDemoPassword, kDemoTotpSecret);
  const me = await apiLogin('dr.kato', kDemoPassword);
  const created = await fetch(`${server.baseUrl}/api/v1/facilities/${me.user.facility_id}/users`, {
    method: 'POST',
    headers: { Cookie: admin.cookie, 'X-CSRF-Token': admin.csrf, 'Content-Type': 'application/json' },
    body: JSON.stringify({ login_id: kFamilyLogin, display_name: '家族 花子', occupation: 'family', role: 'staff', password: 'temporary-password-2026' }),
  });
  assert.equal(created.status, 201, await created.clone().text());
  familyId = (await created.json()).id;
  const family = await apiLogin(kFamilyLogin, 'temporary-password-2026');
  const changed = await fetch(`${server.baseUrl}/api/v1/auth/password`, {
    method: 'POST',
    headers: { Cookie: family.cookie, 'X-CSRF-Token': family.csrf, 'Content-Type': 'application/json' },
    body: JSON.stringify({ current_password: 'temporary-password-2026', new_password: kFamilyPassword }),
  });
  assert.equal(changed.status, 204);
  nurseId = (await apiLogin('ns.suzuki', kDemoPassword)).user.id;

  doctorCookie = me.cookie;
});

after(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await server?.stop();
});

test('a care team shares a templated status with a photo, live, read receipts, family view and search', async () => {
  // --- The doctor opens a care group from the patient page.
  const doctor = await openAs('dr.kato');
  await doctor.getByTestId('care-home').waitFor();
  await doctor.goto(`${server.baseUrl}/patients/${patient.regional_id}`);
  await doctor.getByTestId('care-group-open').click();
  await doctor.getByTestId('care-group-name').fill(kGroupName);
  await doctor.getByTestId('care-group-create').click();
  await doctor.getByTestId('care-group-title').waitFor();
  assert.equal(await doctor.getByTestId('care-group-title').innerText(), kGroupName);
  gid = Number(/\/care\/groups\/(\d+)/.exec(doctor.url())[1]);
  assert.ok(gid > 0);
  await doctor.getByTestId('care-members').waitFor();

  // --- Invites the visiting nurse: search her station and pick her from its
  // staff; where the station's staff list is not open to the doctor, from the
  // people he already works with in other groups, or by her user number.
  const invite = async (loginId, userId, facility) => {
    await doctor.getByTestId('care-add-member').click();
    await doctor.getByTestId('care-facility-search').fill(facility);
    await doctor.getByTestId('care-facility-search').press('Enter');
    await doctor.getByTestId('care-pick-facility').first().click();
    const list = doctor.getByTestId('care-staff-list');
    const refused = doctor.getByTestId('care-staff-refused');
    await list.or(refused).waitFor();
    if (await list.isVisible() && (await doctor.getByTestId(`care-add-${loginId}`).count())) {
      await doctor.getByTestId(`care-add-${loginId}`).click();
    } else if (await doctor.getByTestId(`care-add-colleague-${userId}`).count()) {
      await doctor.getByTestId(`care-add-colleague-${userId}`).click();
    } else {
      await doctor.getByText('ユーザー番号で追加').click();
      await doctor.getByTestId('care-user-number').fill(String(userId));
      await doctor.getByTestId('care-add-by-number').click();
    }
    await doctor.getByTestId(`care-member-${userId}`).waitFor();
  };
  await invite('ns.suzuki', nurseId, 'ふくしま訪問看護');
  assert.match(await doctor.getByTestId(`care-member-${nurseId}`).innerText(), /鈴木 恵子[\s\S]*訪問看護師/);
  await invite(kFamilyLogin, familyId, 'さくら通り');
  assert.match(await doctor.getByTestId(`care-member-${familyId}`).innerText(), /家族 花子[\s\S]*家族/);
  await shot(doctor, 'members');
  pages.doctor = doctor;

  // --- The nurse is on her phone, on the group's timeline, which is empty.
  const nurse = await openAs('ns.suzuki', kDemoPassword, {
    viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2,
  });
  await nurse.getByTestId('care-home').getByText(kGroupName).click();
  await nurse.getByTestId('care-group-title').waitFor();
  await nurse.getByTestId('care-timeline-empty').waitFor();
  pages.nurse = nurse;
  // The tabs wrap into rows on a phone: nothing scrolls sideways.
  assert.ok(await nurse.evaluate(() => document.documentElement.scrollWidth <= 376), 'no horizontal scrolling at 375 px');
  const tabBox = await nurse.getByTestId('tab-members').boundingBox();
  assert.ok(tabBox && tabBox.x + tabBox.width <= 375, 'every tab is on screen');
  assert.ok(tabBox.height >= 44, 'tabs are large enough to touch');

  // --- The doctor posts today's status from the template with a photo.
  await doctor.getByTestId('tab-timeline').click();
  await doctor.getByTestId('care-timeline-empty').waitFor();
  await doctor.getByTestId('care-new-post').click();
  const form = doctor.getByTestId('care-post-form');
  await form.getByTestId('care-category-vital').waitFor();
  assert.equal(await form.getByTestId('care-photo-input').getAttribute('capture'), 'environment');
  assert.equal(await form.getByTestId('care-photo-input').getAttribute('accept'), 'image/*');
  await form.getByTestId('care-post-title').fill(kStatusTitle);
  await form.getByTestId('care-item-meal.amount').selectOption('most');
  await form.getByTestId('care-item-vital.bp_systolic').fill('300');
  await form.getByTestId('care-item-vital.bp_diastolic').fill('78');
  await form.getByTestId('care-post-submit').click();
  // An impossible value is explained before anything is sent.
  assert.match(await form.getByTestId('form-error').innerText(), /血圧（上）.*50.*260/);
  await form.getByTestId('care-item-vital.bp_systolic').fill('132');
  await form.getByTestId('care-item-vital.temperature').fill('36.8');
  await form.getByTestId('care-post-body').fill(kStatusBody);
  await form.getByTestId('care-photo-input').setInputFiles({ name: 'photo.png', mimeType: 'image/png', buffer: photoPng() });
  await form.getByTestId('care-preview-image').waitFor();
  await shot(doctor, 'post-form');
  await form.getByTestId('care-post-submit').click();
  await form.waitFor({ state: 'detached' });
  const doctorPost = doctor.getByTestId('care-post').filter({ hasText: kStatusTitle });
  await doctorPost.waitFor();
  assert.match(await doctorPost.innerText(), /血圧\s*132\/78 mmHg/);
  assert.match(await doctorPost.innerText(), /食事量\s*ほぼ全量/);
  assert.match(await doctorPost.getByTestId('read-count').innerText(), /既読 0\/1/);
  await doctorPost.getByTestId('care-image').waitFor();

  // --- The nurse sees it appear without reloading.
  const nursePost = nurse.getByTestId('care-post').filter({ hasText: kStatusTitle });
  await nursePost.waitFor({ timeout: 10_000 });
  await nurse.getByTestId('toast-info').filter({ hasText: '加藤 誠' }).first().waitFor();
  assert.equal(await nursePost.getByTestId('care-unread').innerText(), '未読');
  await shot(nurse, 'timeline-phone');
  await nursePost.getByTestId('care-post-open').click();
  const detail = nurse.getByTestId('care-post-detail');
  await detail.getByTestId('care-detail-title').waitFor();
  assert.match(await detail.innerText(), /足のむくみは軽減/);
  assert.match(await detail.getByTestId('care-values').innerText(), /体温\s*36.8 ℃/);
  await detail.getByTestId('care-image').waitFor();
  assert.ok(await detail.getByTestId('care-image').evaluate((img) => img.complete && img.naturalWidth === 8), 'the photo loads');
  await detail.getByTestId('care-comment-input').fill('了解しました。次回訪問で浮腫を確認します。');
  await detail.getByTestId('care-comment-submit').click();
  await detail.getByTestId('care-comments').getByText('次回訪問で浮腫を確認').waitFor();
  await shot(nurse, 'post-detail-phone');
  await nurse.keyboard.press('Escape');
  await detail.waitFor({ state: 'detached' });
  await nursePost.getByTestId('care-unread').waitFor({ state: 'detached' });

  // --- The doctor sees "read by 1" and the comment count.
  await doctorPost.getByTestId('read-count').filter({ hasText: '既読 1/1' }).waitFor();
  await doctorPost.getByTestId('comment-count').filter({ hasText: 'コメント 1件' }).waitFor();

  // --- A message published to the family.
  await doctor.getByTestId('care-new-post').click();
  await form.getByTestId('care-kind-message').click();
  await form.getByTestId('care-post-body').fill(kFamilyBody);
  await form.getByTestId('care-post-family').check();
  await form.getByTestId('care-post-submit').click();
  await form.waitFor({ state: 'detached' });
  const familyPost = doctor.getByTestId('care-post').filter({ hasText: kFamilyBody });
  await familyPost.waitFor();
  await familyPost.getByTestId('care-family').waitFor();
  assert.equal(await doctor.getByTestId('care-post').count(), 2);

  // --- The family member sees that post only.
  const family = await openAs(kFamilyLogin, kFamilyPassword);
  await family.goto(`${server.baseUrl}/care`);
  await family.getByTestId(`care-group-${gid}`).click();
  await family.getByTestId('care-group-title').waitFor();
  await family.getByTestId('care-post').first().waitFor();
  assert.equal(await family.getByTestId('care-post').count(), 1);
  assert.match(await family.getByTestId('care-post').innerText(), /穏やかに過ごされていました/);
  assert.ok(!(await family.getByTestId('care-timeline').innerText()).includes('むくみ'), 'the status post stays hidden');
  assert.equal(await family.getByTestId('care-new-post').count(), 0, 'family members do not write posts');
  assert.equal(await family.getByTestId('tab-messages').count(), 0);
  await shot(family, 'family');

  // --- Search finds the status post by a Japanese word (no spaces in the text).
  await doctor.getByTestId('care-search').fill('むくみ');
  await doctor.getByTestId('care-search-submit').click();
  await doctor.getByTestId('care-post').filter({ hasText: kStatusTitle }).waitFor();
  await doctor.waitForFunction(() => document.querySelectorAll('[data-testid="care-post"]').length === 1);
  await doctor.getByTestId('care-search').fill('転倒');
  await doctor.getByTestId('care-search-submit').click();
  await doctor.getByTestId('care-timeline-empty').waitFor();
  assert.match(await doctor.getByTestId('care-timeline-empty').innerText(), /条件に合う投稿はありません/);

  // --- The same page in English.
  await doctor.getByTestId('lang-en').click();
  await doctor.getByTestId('tab-timeline').filter({ hasText: 'Timeline' }).waitFor();
  await doctor.getByTestId('care-post').first().waitFor();
  // Newest first: the family message, unread by the nurse and the family member.
  assert.match(await doctor.getByTestId('care-post').first().getByTestId('read-count').innerText(), /Read by 0 of 2/);
  await doctor.getByTestId('lang-ja').click();
});


test('messages between members, the shared board, the schedule and vital trends', async (t) => {
  const { doctor, nurse } = pages;
  assert.ok(doctor && nurse && gid, 'the first test set up the group');

  await t.test('pins: colour a post and filter the timeline by it', async (s) => {
    await doctor.getByTestId('tab-timeline').click();
    const post = doctor.getByTestId('care-post').filter({ hasText: kStatusTitle });
    await post.getByTestId('care-post-open').click();
    const detail = doctor.getByTestId('care-post-detail');
    await detail.getByTestId('pin-choice-red').check();
    await detail.getByTestId('pin-save').click();
    await doctor.getByTestId('toast-success').filter({ hasText: 'ピンを保存しました' }).waitFor();
    await doctor.keyboard.press('Escape');
    await post.getByTestId('pin-red').waitFor();
    await doctor.getByTestId('care-filters').click();
    await doctor.getByTestId('care-filter-pin').selectOption('red');
    await doctor.getByRole('button', { name: '絞り込む' }).click();
    await doctor.waitForFunction(() => document.querySelectorAll('[data-testid="care-post"]').length === 1);
    assert.match(await doctor.getByTestId('care-post').innerText(), /訪問診療（定期）/);
    assert.equal(await doctor.getByTestId('care-filters').innerText(), '絞り込み中（1件の条件）');
    await doctor.getByTestId('care-filter-pin').selectOption('');
    await doctor.getByRole('button', { name: '絞り込む' }).click();
    await doctor.waitForFunction(() => document.querySelectorAll('[data-testid="care-post"]').length > 1);
  });

  await t.test('search across all my groups', async (s) => {
    await doctor.goto(`${server.baseUrl}/care`);
    await doctor.getByTestId('care-search-all').fill('むくみ');
    await doctor.getByTestId('care-search-all').press('Enter');
    const hits = doctor.getByTestId('care-search-results').locator('li');
    await hits.first().waitFor();
    assert.equal(await hits.count(), 1);
    assert.match(await hits.innerText(), new RegExp(`${kGroupName}[\\s\\S]*${kStatusTitle}`));
    await hits.getByRole('link').click();
    await doctor.getByTestId('care-post-detail').getByText(kStatusBody).waitFor();
    await doctor.keyboard.press('Escape');
  });

  await t.test('a photo straight from the phone camera becomes a post', async (s) => {
    await nurse.getByTestId('tab-timeline').click();
    assert.equal(await nurse.getByTestId('care-camera-input').getAttribute('capture'), 'environment');
    await nurse.getByTestId('care-camera-input').setInputFiles({ name: 'IMG_0001.png', mimeType: 'image/png', buffer: photoPng() });
    const form = nurse.getByTestId('care-post-form');
    await form.getByTestId('care-preview-image').waitFor();
    await form.getByTestId('care-post-body').fill('褥瘡の様子です（仙骨部、発赤なし）');
    await form.getByTestId('care-post-submit').click();
    await form.waitFor({ state: 'detached' });
    const mine = nurse.getByTestId('care-post').filter({ hasText: '褥瘡の様子' });
    await mine.getByTestId('care-image').waitFor();
    assert.match(await mine.innerText(), /写真/);
    await doctor.getByTestId('tab-timeline').click();
      await doctor.getByTestId('care-post').filter({ hasText: '褥瘡の様子' }).getByTestId('care-image').waitFor();
  });

  await t.test('a direct conversation: own messages right, others left', async (s) => {
    await doctor.getByTestId('tab-messages').click();
    await doctor.getByTestId('care-conversations-empty').waitFor();
    await doctor.getByTestId('care-new-conversation').click();
    await doctor.getByLabel(/鈴木 恵子/).check();
    await doctor.getByTestId('care-msg-first').fill('明日の訪問時間を14時に変更できますか？');
    await doctor.getByRole('button', { name: '送信' }).click();
    await doctor.getByTestId('care-msg-mine').filter({ hasText: '14時に変更' }).waitFor();

    await nurse.getByTestId('tab-messages').click();
    const conversation = nurse.getByTestId('care-conversations').getByRole('button', { name: /加藤 誠/ });
    await conversation.waitFor();
    assert.match(await conversation.innerText(), /メッセージ 1件/);
    await conversation.click();
    await nurse.getByTestId('care-msg-other').filter({ hasText: '14時に変更' }).waitFor();
    await nurse.getByTestId('care-msg-input').fill('14時で大丈夫です。');
    await nurse.getByTestId('care-msg-send').click();
    await nurse.getByTestId('care-msg-mine').filter({ hasText: '14時で大丈夫' }).waitFor();
    const mine = await nurse.getByTestId('care-msg-mine').boundingBox();
    const theirs = await nurse.getByTestId('care-msg-other').boundingBox();
    assert.ok(mine.x > theirs.x, 'own messages sit on the right');
    await shot(nurse, 'messages-phone');

    await doctor.getByTestId('care-msg-other').filter({ hasText: '14時で大丈夫' }).waitFor();
  });

  await t.test('the shared board: edit, and a clear message when someone else saved first', async (s) => {
    await doctor.getByTestId('tab-board').click();
    await nurse.getByTestId('tab-board').click();
    const section = doctor.locator('[data-testid^="board-edit-"]').first();
    await section.waitFor();
    const name = (await section.getAttribute('data-testid')).replace('board-edit-', '');
    // The nurse opens the same section for editing, then the doctor saves first.
    await nurse.getByTestId(`board-edit-${name}`).click();
    await section.click();
    await doctor.getByTestId(`board-input-${name}`).fill('転倒に注意。夜間はポータブルトイレを使用。');
    await doctor.getByTestId(`board-save-${name}`).click();
    await doctor.getByTestId(`board-${name}`).getByText('ポータブルトイレ').waitFor();
    await nurse.getByTestId(`board-input-${name}`).fill('入浴は週2回（火・金）。');
    await nurse.getByTestId(`board-save-${name}`).click();
    await nurse.getByTestId('board-conflict').waitFor();
    assert.match(await nurse.getByTestId(`board-${name}`).innerText(), /ポータブルトイレ/);
    assert.match(await nurse.getByTestId(`board-${name}`).innerText(), /入浴は週2回/, 'what she typed is kept visible');
  });

  await t.test('the schedule: an event added by the doctor shows for the nurse', async (s) => {
    await doctor.getByTestId('tab-schedule').click();
    await doctor.getByTestId('sched-week').click();
    await doctor.getByTestId('event-add').click();
    await doctor.getByTestId('event-title').fill('訪問看護（鈴木）');
    await doctor.getByTestId('event-kind').selectOption('visit_nursing');
    await doctor.getByTestId('event-start').fill('14:00');
    await doctor.getByTestId('event-end').fill('15:00');
    await doctor.getByTestId('event-save').click();
    const event = doctor.getByTestId('care-event').filter({ hasText: '訪問看護（鈴木）' });
    await event.waitFor();
    assert.match(await event.innerText(), /14:00–15:00/);
    await doctor.getByTestId('sched-month').click();
    await doctor.getByTestId('care-event').filter({ hasText: '訪問看護（鈴木）' }).first().waitFor();

    await nurse.getByTestId('tab-schedule').click();
    await nurse.getByTestId('care-event').filter({ hasText: '訪問看護（鈴木）' }).first().waitFor();
    await shot(nurse, 'schedule-phone');
  });

  await t.test('vital trends: blood pressure as one chart and a table', async (s) => {
    const kato = await apiSession(server.baseUrl, 'dr.kato', kDemoPassword);
    await kato.post(`/care/groups/${gid}/posts`, {
      kind: 'status', title: '夕方の様子', values: { 'vital.bp_systolic': 124, 'vital.bp_diastolic': 70, 'vital.pulse': 76 },
    });
    await doctor.getByTestId('tab-series').click();
    const bp = doctor.getByTestId('care-series-bp');
    await bp.waitFor();
    await bp.getByTestId('care-chart-bp').locator('svg').waitFor();
    assert.equal(await bp.locator('[data-testid="chart-point"]').count(), 4, 'two systolic and two diastolic points');
    await bp.getByText('表で見る').click();
    const rows = await bp.getByTestId('care-series-table').locator('tbody tr').allInnerTexts();
    assert.equal(rows.length, 2);
    assert.match(rows.join('\n'), /132[\s\S]*78/);
    assert.match(rows.join('\n'), /124[\s\S]*70/);
    await doctor.getByTestId('care-series-pulse').waitFor();
    await shot(doctor, 'series');
  });

  await t.test('an invitation by e-mail for a family member without an account', async (s) => {
    await doctor.goto(`${server.baseUrl}/care/groups/${gid}?tab=members`);
    await doctor.getByTestId('care-invite-email').click();
    await doctor.getByTestId('invite-name').fill('在宅 次郎');
    await doctor.getByTestId('invite-email').fill('jiro@example.jp');
    await doctor.getByTestId('invite-send').click();
    await doctor.getByTestId('toast-success').filter({ hasText: 'jiro@example.jp' }).waitFor();
    const pending = doctor.getByTestId('care-invitation-list').locator('li', { hasText: '在宅 次郎' });
    await pending.waitFor();
    assert.match(await pending.innerText(), /家族[\s\S]*jiro@example\.jp/);
    await pending.getByRole('button', { name: '取り消す' }).click();
    await doctor.getByTestId('confirm-ok').click();
    await pending.waitFor({ state: 'detached' });

    // Invited again, he opens the link from the mail (written to the server
    // log: no SMTP server here), creates his account and joins.
    await doctor.getByTestId('care-invite-email').click();
    await doctor.getByTestId('invite-name').fill('在宅 次郎');
    await doctor.getByTestId('invite-email').fill('jiro@example.jp');
    await doctor.getByTestId('invite-send').click();
    await doctor.getByTestId('care-invitation-list').locator('li', { hasText: '在宅 次郎' }).waitFor();
    let link;
    for (let i = 0; i < 50 && !link; i++) {
      const links = [...server.output().matchAll(/\/care\/invitations\/([A-Za-z0-9_-]{20,})/g)];
      link = links.at(-1)?.[1];
      if (!link) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(link, 'the invitation link in the mail');
    const browser = await launchBrowser();
    contexts.push(browser);
    const guest = browser.context.pages()[0] ?? (await browser.context.newPage());
    await guest.goto(`${server.baseUrl}/care/invitations/${link}`);
    assert.match(await guest.getByTestId('care-invite-lead').innerText(), /加藤 誠/);
    assert.equal(await guest.getByTestId('care-invite-name').innerText(), '在宅 次郎');
    await guest.getByTestId('care-invite-login-id').fill('jiro.zaitaku');
    await guest.getByTestId('care-invite-password').fill('jiro family passphrase');
    await guest.getByTestId('care-invite-confirm').fill('jiro family passphrase');
    await guest.getByTestId('care-invite-submit').click();
    await guest.getByTestId('care-invite-done').waitFor();
    // The link works once.
    await guest.goto(`${server.baseUrl}/care/invitations/${link}`);
    await guest.getByTestId('care-invite-invalid').waitFor();
    const members = await fetchJson(`/care/groups/${gid}`, doctorCookie);
    assert.ok(members.json.members.some((m) => m.display_name === '在宅 次郎' && m.occupation === 'family'));
  });

  await t.test('keyboard only, and a post prints on its own', async () => {
    await doctor.goto(`${server.baseUrl}/care/groups/${gid}`);
    await doctor.getByTestId('care-post').first().waitFor();
    // Tabs follow the arrow keys.
    await doctor.getByTestId('tab-timeline').focus();
    await doctor.keyboard.press('ArrowRight');
    assert.equal(await doctor.getByTestId('tab-messages').getAttribute('aria-selected'), 'true');
    await doctor.keyboard.press('ArrowLeft');
    assert.equal(await doctor.getByTestId('tab-timeline').getAttribute('aria-selected'), 'true');
    // A post opens with Enter and closes with Escape.
    const opener = doctor.getByTestId('care-post').filter({ hasText: kStatusTitle }).getByTestId('care-post-open');
    await opener.focus();
    await doctor.keyboard.press('Enter');
    const detail = doctor.getByTestId('care-post-detail');
    await detail.getByTestId('care-detail-title').waitFor();
    await doctor.emulateMedia({ media: 'print' });
    assert.ok(await detail.isVisible(), 'the open post is printed');
    assert.ok(!(await doctor.getByTestId('care-timeline').isVisible()), 'the timeline behind it is not');
    await doctor.emulateMedia({ media: 'screen' });
    await doctor.keyboard.press('Escape');
    await detail.waitFor({ state: 'detached' });
    // The timeline itself prints without its buttons.
    await doctor.emulateMedia({ media: 'print' });
    assert.ok(await doctor.getByTestId('care-timeline').isVisible());
    assert.ok(!(await doctor.getByTestId('care-new-post').isVisible()));
    await doctor.emulateMedia({ media: 'screen' });
  });

  await t.test('the home page counts unread posts; e-mail notifications can be chosen', async (s) => {
    // Unread for the nurse: the family message and the evening status.
    // (The demo network may hold other groups of hers too.)
    await nurse.goto(`${server.baseUrl}/`);
    await nurse.getByTestId('care-home-total').filter({ hasText: /未読の投稿 \d+件/ }).waitFor();
    await nurse.getByTestId('care-home').locator('li', { hasText: kGroupName }).getByTestId('home-unread-posts')
      .filter({ hasText: '未読 2件' }).waitFor();
    await nurse.goto(`${server.baseUrl}/care`);
    await nurse.getByTestId(`care-group-${gid}`).getByTestId('unread-posts').filter({ hasText: '未読 2件' }).waitFor();
    await nurse.getByTestId('care-notify-email').selectOption('digest');
    await nurse.getByTestId('care-notify-save').click();
    await nurse.getByTestId('toast-success').filter({ hasText: '通知設定を保存しました' }).waitFor();
    await nurse.reload();
    await nurse.getByTestId('care-notify-email').waitFor();
    assert.equal(await nurse.getByTestId('care-notify-email').inputValue(), 'digest');
  });
});
