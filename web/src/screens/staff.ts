// Staff accounts of one facility: list, add, edit, disable/enable, reset password.
// Used by the secretariat (facility detail) and by facility admins (/staff).
import { h, clear } from '../ui/dom';
import { t, tDynamic } from '../i18n';
import { api, ApiError } from '../api/client';
import { kOccupations, type Role, type User } from '../api/types';
import { inputField, selectField, formError, busy, submitButton, toKatakana } from '../ui/forms';
import { dataTable } from '../ui/table';
import { openDialog, confirmDialog } from '../ui/dialog';
import { pageTitle, loading } from '../ui/layout';
import { toast } from '../ui/toast';
import { session } from '../session';
import type { Screen } from '../router';

function rolesFor(actor: User, facilityId: number): Role[] {
  if (actor.role === 'network_admin' && actor.facility_id === facilityId) {
    return ['staff', 'facility_admin', 'network_admin'];
  }
  return ['staff', 'facility_admin'];
}

function occupationOptions() {
  return kOccupations.map((o) => ({ value: o, label: tDynamic('occupation', o) }));
}

function userForm(
  actor: User,
  facilityId: number,
  existing: User | null,
  onDone: (user: User) => void,
): HTMLFormElement {
  const error = formError();
  const loginId = inputField({ label: t('users.loginId'), name: 'login_id', required: true, value: existing?.login_id, testid: 'user-login-id' });
  if (existing) loginId.input.readOnly = true;
  const displayName = inputField({ label: t('users.displayName'), name: 'display_name', required: true, value: existing?.display_name, testid: 'user-display-name' });
  const kana = inputField({ label: t('users.kana'), name: 'kana', value: existing?.kana, testid: 'user-kana' });
  kana.input.addEventListener('blur', () => { kana.input.value = toKatakana(kana.input.value.trim()); });
  const email = inputField({ label: t('users.email'), name: 'email', type: 'email', value: existing?.email, testid: 'user-email' });
  const occupation = selectField({ label: t('users.occupation'), name: 'occupation', required: true, options: occupationOptions(), value: existing?.occupation ?? 'nurse', testid: 'user-occupation' });
  const role = selectField({
    label: t('users.role'), name: 'role', required: true, testid: 'user-role',
    options: rolesFor(actor, facilityId).map((r) => ({ value: r, label: tDynamic('role', r) })),
    value: existing?.role ?? 'staff',
  });
  const password = existing
    ? null
    : inputField({ label: t('users.password'), name: 'password', type: 'password', required: true, autocomplete: 'new-password', hint: t('users.passwordHint'), testid: 'user-password' });
  const submit = submitButton(existing ? t('common.save') : t('users.new'), 'user-submit');

  const form = h(
    'form',
    {
      class: 'form',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        error.hide();
        try {
          let user: User;
          if (existing) {
            user = await busy(submit, () =>
              api.patch<User>(`/users/${existing.id}`, {
                display_name: displayName.input.value.trim(),
                kana: toKatakana(kana.input.value.trim()),
                email: email.input.value.trim(),
                occupation: occupation.select.value,
                role: role.select.value,
              }, { quiet: true }),
            );
          } else {
            if (password && [...password.input.value].length < 13) {
              error.show(t('password.tooShort'));
              password.input.focus();
              return;
            }
            user = await busy(submit, () =>
              api.post<User>(`/facilities/${facilityId}/users`, {
                login_id: loginId.input.value.trim(),
                display_name: displayName.input.value.trim(),
                kana: toKatakana(kana.input.value.trim()) || undefined,
                email: email.input.value.trim() || undefined,
                occupation: occupation.select.value,
                role: role.select.value,
                password: password?.input.value ?? '',
              }, { quiet: true }),
            );
          }
          onDone(user);
        } catch (err) {
          error.show(err instanceof ApiError ? err.userMessage : t('error.generic'));
        }
      },
    },
    error.el,
    h('div', { class: 'grid-2' }, loginId.wrap, email.wrap),
    h('div', { class: 'grid-2' }, displayName.wrap, kana.wrap),
    h('div', { class: 'grid-2' }, occupation.wrap, role.wrap),
    password?.wrap ?? null,
    h('div', { class: 'actions' }, submit),
  );
  return form;
}

/** The staff panel for a facility; renders into the given element. */
export async function staffPanel(container: HTMLElement, facilityId: number, facilityName: string): Promise<void> {
  const actor = session.user;
  if (!actor) return;
  const list = h('div', { testid: 'staff-list' }, loading());
  const addButton = h('button', { type: 'button', class: 'button primary', testid: 'add-user' }, t('users.new'));
  clear(
    container,
    h('div', { class: 'section-head' }, h('h2', { class: 'section-title' }, t('users.titleFor', { facility: facilityName })), addButton),
    list,
  );

  const reload = async () => {
    let users: User[];
    try {
      users = (await api.get<{ items: User[] }>(`/facilities/${facilityId}/users`)).items;
    } catch {
      clear(list, h('p', { class: 'empty-state' }, t('error.generic')));
      return;
    }
    clear(
      list,
      dataTable<User>(
        [
          { label: t('users.displayName'), cell: (u) => [h('strong', null, u.display_name), u.kana ? h('span', { class: 'sub' }, u.kana) : null] as never },
          { label: t('users.loginId'), cell: (u) => h('span', { class: 'mono' }, u.login_id) },
          { label: t('users.occupation'), cell: (u) => tDynamic('occupation', u.occupation) },
          { label: t('users.role'), cell: (u) => tDynamic('role', u.role) },
          { label: t('users.totp'), cell: (u) => (u.totp_enabled ? t('users.totpOn') : t('users.totpOff')) },
          {
            label: t('common.status'),
            cell: (u) => h('span', { class: u.disabled ? 'status status-off' : 'status status-on' }, u.disabled ? t('users.disabled') : t('users.active')),
          },
          { label: t('common.actions'), cell: (u) => actions(u), className: 'cell-actions' },
        ],
        users,
        { empty: t('users.empty'), caption: t('users.titleFor', { facility: facilityName }), testid: 'users-table', rowTestId: (u) => `user-${u.login_id}` },
      ),
    );
  };

  const actions = (u: User): HTMLElement => {
    const self = u.id === actor.id;
    return h(
      'div',
      { class: 'row-actions' },
      h('button', {
        type: 'button', class: 'button small', testid: 'edit-user',
        onclick: () => {
          const dlg = openDialog(t('users.editTitle'), userForm(actor, facilityId, u, () => {
            dlg.close();
            toast(t('users.updated'), 'success');
            void reload();
          }), { wide: true });
        },
      }, t('common.edit')),
      self ? null : h('button', {
        type: 'button', class: u.disabled ? 'button small' : 'button small danger-outline', testid: u.disabled ? 'enable-user' : 'disable-user',
        onclick: async (e: Event) => {
                const btn = e.currentTarget as HTMLButtonElement;
          if (!u.disabled && !(await confirmDialog(t('users.disableConfirm', { name: u.display_name }), t('users.disable'), true))) return;
          try {
            await busy(btn, () => api.patch(`/users/${u.id}`, { disabled: !u.disabled }));
          } catch {
            return;
          }
          toast(t('users.updated'), 'success');
          void reload();
        },
      }, u.disabled ? t('users.enable') : t('users.disable')),
      self ? null : h('button', {
        type: 'button', class: 'button small', testid: 'reset-user',
        onclick: async () => {
          if (!(await confirmDialog(t('users.resetConfirm', { name: u.display_name }), t('users.reset'), true))) return;
          let answer: { temporary_password: string };
          try {
            answer = await api.post<{ temporary_password: string }>(`/users/${u.id}/reset-password`);
          } catch {
            return;
          }
          openDialog(t('users.resetDone'), h('div', null,
            h('p', null, t('users.resetBody', { name: u.display_name })),
            h('dl', { class: 'dl' }, h('dt', null, t('users.temporaryPassword')),
              h('dd', { class: 'secret', testid: 'temporary-password', translate: 'no' }, answer.temporary_password))));
        },
      }, t('users.reset')),
      self || !u.totp_enabled ? null : h('button', {
        type: 'button', class: 'button small', testid: 'reset-totp',
        onclick: async (e: Event) => {
          const btn = e.currentTarget as HTMLButtonElement;
          if (!(await confirmDialog(t('users.resetTotpConfirm', { name: u.display_name }), t('users.resetTotp'), true))) return;
          try {
            await busy(btn, () => api.post(`/users/${u.id}/reset-totp`));
          } catch {
            return;
          }
          toast(t('users.resetTotpDone', { name: u.display_name }), 'success');
          void reload();
        },
      }, t('users.resetTotp')),
    );
  };

  addButton.addEventListener('click', () => {
    const dlg = openDialog(t('users.createTitle'), userForm(actor, facilityId, null, (user) => {
      dlg.close();
      toast(t('users.created', { name: user.display_name }), 'success');
      void reload();
    }), { wide: true });
  });

  await reload();
}

/** /staff: a facility admin's own staff. */
export const staffScreen: Screen = async ({ root }) => {
  const user = session.user;
  if (!user) return;
  document.title = `${t('users.title')} | ${t('app.name')}`;
  const panel = h('div');
  clear(root, pageTitle(t('users.title')), h('section', { class: 'card' }, panel));
  await staffPanel(panel, user.facility_id, user.facility_name);
};
