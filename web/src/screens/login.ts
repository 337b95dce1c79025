// Login: login ID + password, then a TOTP code when the account has one.
import { h, clear } from '../ui/dom';
import { t } from '../i18n';
import { api, ApiError } from '../api/client';
import type { MfaChallenge, SessionAnswer } from '../api/types';
import { inputField, formError, busy, submitButton, toHalfWidth } from '../ui/forms';
import { session, forcedPath } from '../session';
import { navigate, type Screen } from '../router';

/** Only same-site paths are accepted as a place to return to after login. */
export function safeNext(next: string | null): string | null {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/login')) return null;
  return next;
}

function loginErrorText(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 401) {
      return /lock/i.test(error.message) ? t('login.locked') : t('login.failed');
    }
    return error.userMessage;
  }
  return t('error.generic');
}

export const loginScreen: Screen = async ({ root, query }) => {
  document.title = `${t('login.title')} | ${t('app.name')}`;
  const next = safeNext(query.get('next'));
  const existing = await session.load();
  if (existing) {
    navigate(forcedPath(existing) ?? next ?? '/', true);
    return;
  }

  const notice = (): HTMLElement | null => {
    if (query.get('expired')) return h('p', { class: 'notice notice-warn', role: 'status', testid: 'login-notice' }, t('error.sessionExpired'));
    if (query.get('changed')) return h('p', { class: 'notice notice-ok', role: 'status', testid: 'login-notice' }, t('password.relogin'));
    if (query.get('bye')) return h('p', { class: 'notice notice-ok', role: 'status', testid: 'login-notice' }, t('menu.loggedOut'));
    return null;
  };

  const panel = h('section', { class: 'auth-card card' });
  clear(root, h('div', { class: 'auth-page' }, panel));

  const finish = (answer: SessionAnswer) => {
    session.set(answer);
    navigate(forcedPath(answer.user) ?? next ?? '/', true);
  };

  const showPasswordStep = () => {
    const error = formError();
    const loginId = inputField({ label: t('login.loginId'), name: 'login_id', required: true, autocomplete: 'username', testid: 'login-id', autofocus: true });
    const password = inputField({ label: t('login.password'), name: 'password', type: 'password', required: true, autocomplete: 'current-password', testid: 'login-password' });
    const submit = submitButton(t('login.submit'), 'login-submit');
    submit.classList.add('block');
    const form = h(
      'form',
      {
        class: 'form', novalidate: false,
        onsubmit: async (e: Event) => {
          e.preventDefault();
          error.hide();
          try {
            const answer = await busy(submit, () =>
              api.post<SessionAnswer | MfaChallenge>(
                '/auth/login',
                { login_id: loginId.input.value.trim(), password: password.input.value },
                { quiet: true, allowUnauthenticated: true },
              ),
            );
            if ('mfa_required' in answer && answer.mfa_required) showTotpStep(answer.mfa_token);
            else finish(answer as SessionAnswer);
          } catch (err) {
            error.show(loginErrorText(err));
            password.input.value = '';
            password.input.focus();
          }
        },
      },
      error.el,
      loginId.wrap,
      password.wrap,
      submit,
    );
    clear(
      panel,
      h('h1', { class: 'page-title', tabindex: '-1' }, t('login.title')),
      h('p', { class: 'lead' }, t('login.lead')),
      notice(),
      form,
      h('p', { class: 'auth-foot' }, h('a', { href: '/apply' }, t('login.applyLink'))),
    );
    loginId.input.focus();
  };

  const showTotpStep = (mfaToken: string) => {
    const error = formError();
    const code = inputField({
      label: t('login.totpCode'), name: 'code', required: true, inputmode: 'numeric',
      autocomplete: 'one-time-code', pattern: '[0-9０-９]{6}', maxlength: 6, testid: 'totp-code',
    });
    const submit = submitButton(t('login.totpSubmit'), 'totp-submit');
    submit.classList.add('block');
    const form = h(
      'form',
      {
        class: 'form',
        onsubmit: async (e: Event) => {
          e.preventDefault();
          error.hide();
          try {
            const answer = await busy(submit, () =>
              api.post<SessionAnswer>(
                '/auth/login/totp',
                { mfa_token: mfaToken, code: toHalfWidth(code.input.value) },
                { quiet: true, allowUnauthenticated: true },
              ),
            );
            finish(answer);
          } catch (err) {
            if (err instanceof ApiError && err.status === 401 && !/lock/i.test(err.message)) {
              error.show(t('login.totpFailed'));
            } else {
              error.show(loginErrorText(err));
            }
            code.input.value = '';
            code.input.focus();
          }
        },
      },
      error.el,
      code.wrap,
      submit,
    );
    clear(
      panel,
      h('h1', { class: 'page-title', tabindex: '-1' }, t('login.totpTitle')),
      h('p', { class: 'lead' }, t('login.totpLead')),
      form,
      h('p', { class: 'auth-foot' },
        h('button', { type: 'button', class: 'link-button', onclick: showPasswordStep }, t('login.totpBack'))),
    );
    code.input.focus();
  };

  showPasswordStep();
};
