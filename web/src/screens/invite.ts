// Invitation acceptance: the new facility admin creates the account.
import { h, clear } from '../ui/dom';
import { t, formatDateTime } from '../i18n';
import { api, ApiError } from '../api/client';
import type { Invitation } from '../api/types';
import { inputField, formError, busy, submitButton, toKatakana } from '../ui/forms';
import { pageTitle, loading } from '../ui/layout';
import { passwordProblem } from './password';
import type { Screen } from '../router';

export const inviteScreen: Screen = async ({ root, params }) => {
  document.title = `${t('invite.title')} | ${t('app.name')}`;
  const token = params[0] ?? '';
  clear(root, loading());
  let invitation: Invitation;
  try {
    invitation = await api.get<Invitation>(`/invitations/${encodeURIComponent(token)}`, { quiet: true, allowUnauthenticated: true });
  } catch (err) {
    const notFound = err instanceof ApiError && (err.status === 404 || err.status === 400 || err.status === 409);
    clear(
      root,
      h('div', { class: 'narrow' }, pageTitle(t('invite.title')),
        h('section', { class: 'card' }, h('p', { class: 'notice notice-warn', role: 'alert', testid: 'invite-invalid' },
          notFound ? t('invite.invalid') : err instanceof ApiError ? err.userMessage : t('error.generic')))),
    );
    return;
  }

  const error = formError();
  const loginId = inputField({ label: t('invite.loginId'), name: 'login_id', required: true, autocomplete: 'username', hint: t('invite.loginIdHint'), testid: 'invite-login-id' });
  const displayName = inputField({ label: t('invite.displayName'), name: 'display_name', required: true, autocomplete: 'name', testid: 'invite-display-name' });
  const kana = inputField({ label: t('invite.kana'), name: 'kana', testid: 'invite-kana' });
  const password = inputField({ label: t('invite.password'), name: 'password', type: 'password', required: true, autocomplete: 'new-password', hint: t('password.policy'), testid: 'invite-password' });
  const confirm = inputField({ label: t('invite.confirm'), name: 'confirm', type: 'password', required: true, autocomplete: 'new-password', testid: 'invite-confirm' });
  kana.input.addEventListener('blur', () => { kana.input.value = toKatakana(kana.input.value.trim()); });
  const submit = submitButton(t('invite.submit'), 'invite-submit');

  const form = h(
    'form',
    {
      class: 'form',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        error.hide();
        const problem = passwordProblem(password.input.value, confirm.input.value, loginId.input.value.trim(), false);
        if (problem) {
          error.show(problem);
          return;
        }
        try {
          await busy(submit, () =>
            api.post(`/invitations/${encodeURIComponent(token)}/accept`, {
              login_id: loginId.input.value.trim(),
              display_name: displayName.input.value.trim(),
              kana: toKatakana(kana.input.value.trim()) || undefined,
              password: password.input.value,
            }, { quiet: true, allowUnauthenticated: true }),
          );
        } catch (err) {
          error.show(err instanceof ApiError ? err.userMessage : t('error.generic'));
          return;
        }
        clear(
          root,
          h('div', { class: 'narrow' },
            h('section', { class: 'card done-card', testid: 'invite-done' },
              h('h1', { class: 'page-title', tabindex: '-1' }, t('invite.doneTitle')),
              h('p', null, t('invite.doneBody')),
              h('div', { class: 'actions' }, h('a', { href: '/login', class: 'button primary' }, t('invite.toLogin'))))),
        );
        root.querySelector<HTMLElement>('h1')?.focus();
      },
    },
    error.el,
    loginId.wrap,
    displayName.wrap,
    kana.wrap,
    password.wrap,
    confirm.wrap,
    h('div', { class: 'actions' }, submit),
  );

  clear(
    root,
    h(
      'div',
      { class: 'narrow' },
      pageTitle(t('invite.title')),
      h('p', { class: 'lead', testid: 'invite-facility' }, t('invite.lead', { facility: invitation.facility_name })),
      h('section', { class: 'card' },
        h('dl', { class: 'dl dl-inline' },
          h('dt', null, t('invite.email')), h('dd', { testid: 'invite-email' }, invitation.email),
          h('dt', null, t('invite.expires')), h('dd', null, formatDateTime(invitation.expires_at))),
        form),
    ),
  );
};
