// Password change; forced after the first login or a reset.
import { h, clear } from '../ui/dom';
import { t } from '../i18n';
import { api, ApiError } from '../api/client';
import { inputField, formError, busy, submitButton } from '../ui/forms';
import { pageTitle } from '../ui/layout';
import { toast } from '../ui/toast';
import { session, forcedPath } from '../session';
import { navigate, type Screen } from '../router';

export function passwordProblem(password: string, confirm: string, loginId: string, hasSecondFactor: boolean): string | null {
  const min = hasSecondFactor ? 8 : 13;
  if ([...password].length < min) return t('password.tooShort');
  if (password === loginId) return t('password.sameAsLogin');
  if (password !== confirm) return t('password.mismatch');
  return null;
}

export const passwordScreen: Screen = ({ root }) => {
  const user = session.user;
  if (!user) return;
  document.title = `${t('password.title')} | ${t('app.name')}`;
  const forced = user.must_change_password;
  const error = formError();
  const current = inputField({ label: t('password.current'), name: 'current_password', type: 'password', required: true, autocomplete: 'current-password', testid: 'current-password' });
  const next = inputField({ label: t('password.new'), name: 'new_password', type: 'password', required: true, autocomplete: 'new-password', hint: t('password.policy'), testid: 'new-password' });
  const confirm = inputField({ label: t('password.confirm'), name: 'confirm_password', type: 'password', required: true, autocomplete: 'new-password', testid: 'confirm-password' });
  const submit = submitButton(t('password.submit'), 'password-submit');
  const form = h(
    'form',
    {
      class: 'form',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        error.hide();
        const problem = passwordProblem(next.input.value, confirm.input.value, user.login_id, user.totp_enabled);
        if (problem) {
          error.show(problem);
          return;
        }
        try {
          await busy(submit, () =>
            api.post('/auth/password', { current_password: current.input.value, new_password: next.input.value }, { quiet: true }),
          );
        } catch (err) {
          error.show(err instanceof ApiError ? err.userMessage : t('error.generic'));
          return;
        }
        const refreshed = await session.load(true);
        if (!refreshed) {
          navigate('/login?changed=1', true);
          return;
        }
        toast(t('password.changed'), 'success');
        navigate(forcedPath(refreshed) ?? '/', true);
      },
    },
    error.el,
    current.wrap,
    next.wrap,
    confirm.wrap,
    h('div', { class: 'actions' }, submit),
  );
  clear(
    root,
    h(
      'div',
      { class: 'narrow' },
      pageTitle(t('password.title')),
      forced ? h('p', { class: 'notice notice-warn', testid: 'forced-password' }, t('password.forced')) : null,
      h('section', { class: 'card' }, form),
    ),
  );
  current.input.focus();
};
