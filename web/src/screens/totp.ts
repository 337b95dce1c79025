// TOTP enrolment: QR code + manual key, confirmed with a first code.
import { h, clear } from '../ui/dom';
import { t } from '../i18n';
import { api, ApiError } from '../api/client';
import type { User } from '../api/types';
import { inputField, formError, busy, submitButton, toHalfWidth } from '../ui/forms';
import { pageTitle, loading } from '../ui/layout';
import { toast } from '../ui/toast';
import { session, forcedPath } from '../session';
import { navigate, type Screen } from '../router';

interface Enrollment {
  secret: string;
  otpauth_uri: string;
  qr_svg: string;
}

/** The SVG goes into an <img> through a data: URL, so no markup runs in the page. */
export function svgDataUrl(svg: string): string {
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
}

function groupSecret(secret: string): string {
  return secret.replace(/\s+/g, '').replace(/(.{4})(?=.)/g, '$1 ');
}

export const totpScreen: Screen = ({ root }) => {
  const user = session.user;
  if (!user) return;
  document.title = `${t('totp.title')} | ${t('app.name')}`;
  const forced = user.mfa_enrollment_required;
  const body = h('section', { class: 'card' });
  clear(
    root,
    h(
      'div',
      { class: 'narrow' },
      pageTitle(t('totp.title')),
      forced ? h('p', { class: 'notice notice-warn', testid: 'forced-totp' }, t('totp.required')) : null,
      body,
    ),
  );

  const start = async () => {
    clear(body, loading());
    let enrollment: Enrollment;
    try {
      enrollment = await api.post<Enrollment>('/auth/totp/enroll');
    } catch {
      clear(body, h('p', null, t('error.generic')), h('button', { type: 'button', class: 'button', onclick: start }, t('totp.start')));
      return;
    }
    const error = formError();
    const code = inputField({
      label: t('totp.code'), name: 'code', required: true, inputmode: 'numeric',
      autocomplete: 'one-time-code', pattern: '[0-9０-９]{6}', maxlength: 6, testid: 'totp-confirm-code',
    });
    const submit = submitButton(t('totp.confirm'), 'totp-confirm');
    const form = h(
      'form',
      {
        class: 'form',
        onsubmit: async (e: Event) => {
          e.preventDefault();
          error.hide();
          try {
            const answer = await busy(submit, () =>
              api.post<{ user: User }>('/auth/totp/confirm', { code: toHalfWidth(code.input.value) }, { quiet: true }),
            );
            if (answer?.user) session.updateUser(answer.user);
          } catch (err) {
            error.show(err instanceof ApiError ? err.userMessage : t('error.generic'));
            code.input.value = '';
            code.input.focus();
            return;
          }
          const refreshed = (await session.load(true)) ?? session.user;
          toast(t('totp.done'), 'success');
          navigate(refreshed ? forcedPath(refreshed) ?? '/' : '/login', true);
        },
      },
      error.el,
      code.wrap,
      h('div', { class: 'actions' }, submit),
    );
    clear(
      body,
      h('p', null, t('totp.step1')),
      h(
        'div',
        { class: 'totp-qr' },
        h('img', { src: svgDataUrl(enrollment.qr_svg), alt: t('totp.qrAlt'), width: '200', height: '200', testid: 'totp-qr' }),
      ),
      h('p', { class: 'field-hint' }, t('totp.manual')),
      h('p', { class: 'secret', testid: 'totp-secret', translate: 'no' }, groupSecret(enrollment.secret)),
      h('p', null, t('totp.step2')),
      form,
    );
    code.input.focus();
  };

  if (user.totp_enabled && !forced) {
    clear(
      body,
      h('p', { class: 'notice notice-ok', testid: 'totp-enabled' }, t('totp.enabled')),
    );
  } else {
    void start();
  }
};
