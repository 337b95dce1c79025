// Accepting an invitation into a care group (link from the mail): the
// invitee (a family member, or staff of a care business without an account)
// chooses a login and password and becomes a member of the group.
import { h, clear } from '../ui/dom';
import { t, formatDateTime } from '../i18n';
import { api, ApiError } from '../api/client';
import { inputField, formError, busy, submitButton, toKatakana } from '../ui/forms';
import { pageTitle, loading } from '../ui/layout';
import { passwordProblem } from './password';
import type { Screen } from '../router';

interface CareInvitationView {
  group_name: string;
  inviter_name: string;
  inviter_facility_name: string;
  display_name: string;
  email: string;
  occupation: string;
  organization_name: string;
  expires_at: string;
}

export const careInvitationScreen: Screen = async ({ root, params }) => {
  document.title = `${t('careInvite.title')} | ${t('app.name')}`;
  const token = params[0] ?? '';
  const base = `/care/invitations/by-token/${encodeURIComponent(token)}`;
  clear(root, loading());
  let invitation: CareInvitationView;
  try {
    invitation = await api.get<CareInvitationView>(base, { quiet: true, allowUnauthenticated: true });
  } catch (err) {
    const invalid = err instanceof ApiError && (err.status === 404 || err.status === 400);
    clear(
      root,
      h('div', { class: 'narrow' }, pageTitle(t('careInvite.title')),
        h('section', { class: 'card' }, h('p', { class: 'notice notice-warn', role: 'alert', testid: 'care-invite-invalid' },
          invalid ? t('careInvite.invalid') : err instanceof ApiError ? err.userMessage : t('error.generic')))),
    );
    return;
  }

  const error = formError();
  const loginId = inputField({ label: t('invite.loginId'), name: 'login_id', required: true, autocomplete: 'username', hint: t('invite.loginIdHint'), testid: 'care-invite-login-id' });
  const kana = inputField({ label: t('invite.kana'), name: 'kana', testid: 'care-invite-kana' });
  const password = inputField({ label: t('invite.password'), name: 'password', type: 'password', required: true, autocomplete: 'new-password', hint: t('careInvite.passwordPolicy'), testid: 'care-invite-password' });
  const confirm = inputField({ label: t('invite.confirm'), name: 'confirm', type: 'password', required: true, autocomplete: 'new-password', testid: 'care-invite-confirm' });
  kana.input.addEventListener('blur', () => { kana.input.value = toKatakana(kana.input.value.trim()); });
  const submit = submitButton(t('careInvite.submit'), 'care-invite-submit');

  const form = h(
    'form',
    {
      class: 'form',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        error.hide();
        // No second factor yet: the longer password rule applies.
        const problem = passwordProblem(password.input.value, confirm.input.value, loginId.input.value.trim(), false);
        if (problem) {
          error.show(problem);
          return;
        }
        try {
          await busy(submit, () =>
            api.post(`${base}/accept`, {
              login_id: loginId.input.value.trim(),
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
            h('section', { class: 'card done-card', testid: 'care-invite-done' },
              h('h1', { class: 'page-title', tabindex: '-1' }, t('careInvite.doneTitle')),
              h('p', null, t('careInvite.doneBody', { group: invitation.group_name })),
              h('div', { class: 'actions' }, h('a', { href: '/login', class: 'button primary' }, t('invite.toLogin'))))),
        );
        root.querySelector<HTMLElement>('h1')?.focus();
      },
    },
    error.el,
    loginId.wrap,
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
      pageTitle(t('careInvite.title')),
      h('p', { class: 'lead', testid: 'care-invite-lead' },
        t('careInvite.lead', { inviter: invitation.inviter_name, facility: invitation.inviter_facility_name, group: invitation.group_name })),
      h('section', { class: 'card' },
        h('dl', { class: 'dl dl-inline' },
          h('dt', null, t('careInvite.name')), h('dd', { testid: 'care-invite-name' }, invitation.display_name),
          invitation.organization_name ? h('dt', null, t('careInvite.organization')) : null,
          invitation.organization_name ? h('dd', null, invitation.organization_name) : null,
          h('dt', null, t('invite.email')), h('dd', null, invitation.email),
          h('dt', null, t('invite.expires')), h('dd', null, formatDateTime(invitation.expires_at))),
        form),
    ),
  );
};
