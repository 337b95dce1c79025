// Members of a care group: who is in it, adding staff (search a facility,
// pick from its staff), inviting people without an account by e-mail,
// removing (owner) or leaving, archiving (owner).
import { h, clear } from '../ui/dom';
import { t, tDynamic, formatDateTime } from '../i18n';
import { openDialog, confirmDialog } from '../ui/dialog';
import { toast } from '../ui/toast';
import { dataTable } from '../ui/table';
import { navigate } from '../router';
import { session } from '../session';
import { ApiError } from '../api/client';
import { care, type CareInvitation, type CareMember } from '../api/care';
import { kCodedFacilityTypes, kFacilityTypes, type Facility, type Occupation, type User } from '../api/types';
import { formError, busy, inputField, selectField, submitButton, toKatakana } from '../ui/forms';
import { errorText, isMissingRoute } from './care_common';
import type { CareGroupContext } from './care_group';

/** Dialog: search a facility, then pick one of its staff (or enter a user number). */
function openMemberPicker(ctx: CareGroupContext): void {
  const error = formError();
  const results = h('div', { 'aria-live': 'polite' });
  const staffSlot = h('div', { 'aria-live': 'polite' });
  const present = new Set((ctx.group.members ?? []).map((m) => m.user_id));
  const add = async (userId: number, name: string, button: HTMLButtonElement) => {
    error.hide();
    try {
      const member = await busy(button, () => care.addMember(ctx.group.id, userId));
      toast(t('care.members.added', { name: member?.display_name || name }), 'success');
      dialog.close();
      ctx.reload();
    } catch (err) {
      error.show(errorText(err));
    }
  };
  const showStaff = async (f: Facility) => {
    clear(staffSlot, h('p', { class: 'loading' }, t('common.loading')));
    let staff: User[];
    try {
      staff = (await care.staffOf(ctx.group.id, f.id)).filter((u) => !u.disabled);
    } catch (err) {
      const refused = err instanceof ApiError && err.status === 403;
      clear(staffSlot, h('p', { class: 'notice notice-info', testid: 'care-staff-refused' },
        refused ? t('care.members.staffHidden', { facility: f.name }) : errorText(err)));
      return;
    }
    clear(staffSlot, h('h3', { class: 'care-subtitle' }, t('care.members.staffOf', { facility: f.name })),
      staff.length
        ? h('ul', { class: 'care-pick-list', testid: 'care-staff-list' }, staff.map((u) => {
          const button = h('button', {
            type: 'button', class: 'button small primary', disabled: present.has(u.id), testid: `care-add-${u.login_id}`,
            onclick: () => void add(u.id, u.display_name, button),
          }, present.has(u.id) ? t('care.members.already') : t('care.members.add'));
          return h('li', null, h('span', null, h('strong', null, u.display_name), ' ',
            h('span', { class: 'field-hint' }, tDynamic('occupation', u.occupation))), button);
        }))
        : h('p', { class: 'empty-state' }, t('care.members.noStaff')));
  };
  const q = h('input', { type: 'search', class: 'input', name: 'facility', 'aria-label': t('care.members.facilitySearch'), placeholder: t('care.members.facilityPlaceholder'), testid: 'care-facility-search' });
  const searchForm = h('form', {
    class: 'care-search', role: 'search',
    onsubmit: async (e: Event) => {
      e.preventDefault();
      clear(staffSlot);
      clear(results, h('p', { class: 'loading' }, t('common.loading')));
      try {
        const items = await care.facilities(q.value.trim());
        clear(results, items.length
          ? h('ul', { class: 'care-pick-list', testid: 'care-facility-results' }, items.slice(0, 30).map((f) =>
            h('li', null, h('span', null, h('strong', null, f.name), ' ', h('span', { class: 'field-hint' }, tDynamic('facilityType', f.type))),
              h('button', { type: 'button', class: 'button small', testid: 'care-pick-facility', onclick: () => void showStaff(f) }, t('care.members.showStaff')))))
          : h('p', { class: 'empty-state' }, t('care.members.noFacility')));
      } catch (err) {
        clear(results, h('p', { class: 'form-error' }, errorText(err)));
      }
    },
  }, q, h('button', { type: 'submit', class: 'button' }, t('common.search')));

  // By user number: for staff lists the viewer may not open.
  const numberInput = h('input', { type: 'text', inputmode: 'numeric', class: 'input', name: 'user_id', 'aria-label': t('care.members.userNumber'), testid: 'care-user-number' });
  const numberButton = h('button', { type: 'submit', class: 'button', testid: 'care-add-by-number' }, t('care.members.add'));
  const numberForm = h('form', {
    class: 'care-search',
    onsubmit: (e: Event) => {
      e.preventDefault();
      const id = Number(numberInput.value.replace(/[０-９]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0)).trim());
      if (!Number.isInteger(id) || id <= 0) {
        error.show(t('care.members.badNumber'));
        numberInput.focus();
        return;
      }
      void add(id, `#${id}`, numberButton);
    },
  }, numberInput, numberButton);

  // People I already work with in my other groups (teams overlap).
  const colleagues = h('div', { testid: 'care-colleagues' });
  void (async () => {
    try {
      const groups = (await care.groups()).filter((g) => g.id !== ctx.group.id && !g.archived).slice(0, 20);
      const details = await Promise.all(groups.map((g) => care.group(g.id).catch(() => null)));
      const seen = new Map<number, CareMember>();
      for (const d of details) for (const m of d?.members ?? []) if (!present.has(m.user_id) && m.occupation !== 'family') seen.set(m.user_id, m);
      if (!seen.size) return;
      clear(colleagues, h('h3', { class: 'care-subtitle' }, t('care.members.colleagues')),
        h('ul', { class: 'care-pick-list', testid: 'care-colleague-list' }, [...seen.values()].map((m) => {
          const button = h('button', {
            type: 'button', class: 'button small primary', testid: `care-add-colleague-${m.user_id}`,
            onclick: () => void add(m.user_id, m.display_name, button),
          }, t('care.members.add'));
          return h('li', null, h('span', null, h('strong', null, m.display_name), ' ',
            h('span', { class: 'field-hint' }, tDynamic('occupation', m.occupation))), button);
        })));
    } catch {
      // Suggestions only; the facility search still works.
    }
  })();

  const body = h('div', { class: 'care-picker' }, error.el,
    colleagues,
    h('p', { class: 'field-hint' }, t('care.members.pickerLead')),
    searchForm, results, staffSlot,
    h('details', { class: 'care-by-number' }, h('summary', null, t('care.members.byNumber')),
      h('p', { class: 'field-hint' }, t('care.members.byNumberHint')), numberForm));
  const dialog = openDialog(t('care.members.addTitle'), body, { wide: true });
  q.focus();
}

const kInviteOccupations: Occupation[] = ['home_helper', 'care_manager', 'visiting_nurse', 'nurse', 'therapist', 'social_worker', 'clerk'];
const kBusinessTypes = kFacilityTypes.filter((f) => !kCodedFacilityTypes.includes(f) && !['ems', 'municipality', 'lab_center'].includes(f));

/** Invitations by e-mail for people without an account (family, care businesses). */
function invitationsSection(ctx: CareGroupContext): HTMLElement {
  const section = h('section', { class: 'care-invitations no-print', testid: 'care-invitations' });
  const listSlot = h('div', { 'aria-live': 'polite' });
  const load = async () => {
    let items: CareInvitation[];
    try {
      items = await care.invitations(ctx.group.id);
    } catch (err) {
      if (isMissingRoute(err)) section.remove();
      else clear(listSlot, h('p', { class: 'field-hint' }, errorText(err)));
      return;
    }
    const pending = items.filter((i) => i.status === 'pending');
    clear(listSlot, pending.length
      ? h('ul', { class: 'care-pick-list', testid: 'care-invitation-list' }, pending.map((i) => h('li', null,
        h('span', null, h('strong', null, i.display_name), ' ', h('span', { class: 'field-hint' },
          `${tDynamic('occupation', i.occupation)} · ${i.email} · ${t('care.invite.expires', { at: formatDateTime(i.expires_at) })}`)),
        h('button', {
          type: 'button', class: 'button small danger-outline',
          onclick: async (e: Event) => {
            const button = e.currentTarget as HTMLButtonElement;
            if (!(await confirmDialog(t('care.invite.revokeConfirm', { name: i.display_name }), t('care.invite.revoke'), true))) return;
            await busy(button, () => care.revokeInvitation(i.id));
            toast(t('care.invite.revoked'), 'success');
            void load();
          },
        }, t('care.invite.revoke')))))
      : h('p', { class: 'field-hint' }, t('care.invite.nonePending')));
  };
  const openForm = () => {
    const error = formError();
    const kind = selectField({
      label: t('care.invite.who'), name: 'who', value: 'family', testid: 'invite-who',
      options: [{ value: 'family', label: t('care.invite.family') }, { value: 'staff', label: t('care.invite.staff') }],
    });
    const name = inputField({ label: t('care.members.name'), name: 'display_name', required: true, maxlength: 100, testid: 'invite-name' });
    const email = inputField({ label: t('users.email'), name: 'email', type: 'email', required: true, autocomplete: 'off', testid: 'invite-email' });
    const occupation = selectField({
      label: t('users.occupation'), name: 'occupation', value: 'home_helper',
      options: kInviteOccupations.map((o) => ({ value: o, label: tDynamic('occupation', o) })),
    });
    const org = inputField({ label: t('care.invite.orgName'), name: 'org_name', maxlength: 100 });
    const orgKana = inputField({ label: t('care.invite.orgKana'), name: 'org_kana', maxlength: 100 });
    const orgType = selectField({
      label: t('care.invite.orgType'), name: 'org_type', value: 'home_care_support_office',
      options: kBusinessTypes.map((f) => ({ value: f, label: tDynamic('facilityType', f) })),
    });
    const staffFields = h('div', null, occupation.wrap, org.wrap, orgKana.wrap, orgType.wrap);
    const sync = () => { staffFields.hidden = kind.select.value !== 'staff'; };
    kind.select.addEventListener('change', sync);
    sync();
    const submit = submitButton(t('care.invite.send'), 'invite-send');
    const form = h('form', {
      novalidate: true,
      onsubmit: async (e: Event) => {
        e.preventDefault();
        error.hide();
        const staff = kind.select.value === 'staff';
        if (!name.input.value.trim() || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email.input.value.trim())) {
          error.show(t('care.invite.required'));
          return;
        }
        if (staff && (!org.input.value.trim() || !orgKana.input.value.trim())) {
          error.show(t('care.invite.orgRequired'));
          org.input.focus();
          return;
        }
        try {
          await busy(submit, () => care.invite(ctx.group.id, {
            email: email.input.value.trim(), display_name: name.input.value.trim(),
            occupation: staff ? (occupation.select.value as Occupation) : 'family',
            organization: staff ? { name: org.input.value.trim(), kana: toKatakana(orgKana.input.value.trim()), type: orgType.select.value } : undefined,
          }));
          toast(t('care.invite.sent', { email: email.input.value.trim() }), 'success');
          dialog.close();
          void load();
        } catch (err) {
          error.show(errorText(err));
        }
      },
    }, error.el, h('p', { class: 'field-hint' }, t('care.invite.lead')), kind.wrap, name.wrap, email.wrap, staffFields,
    h('div', { class: 'actions' }, h('button', { type: 'button', class: 'button', onclick: () => dialog.close() }, t('common.cancel')), submit));
    const dialog = openDialog(t('care.invite.title'), form);
    name.input.focus();
  };
  section.append(
    h('div', { class: 'care-board-head' }, h('h3', { class: 'care-subtitle' }, t('care.invite.title')),
      h('button', { type: 'button', class: 'button small', testid: 'care-invite-email', onclick: openForm }, t('care.invite.open'))),
    listSlot);
  void load();
  return section;
}

export function membersTab(ctx: CareGroupContext): { panel: HTMLElement; show: () => void } {
  const panel = h('div', { class: 'care-members' });
  const me = session.user;
  const members = ctx.group.members ?? [];
  const iAmOwner = members.some((m) => m.user_id === me?.id && m.role === 'owner');
  const open = !ctx.group.archived;
  const remove = async (m: CareMember) => {
    const self = m.user_id === me?.id;
    const ok = await confirmDialog(self ? t('care.members.leaveConfirm') : t('care.members.removeConfirm', { name: m.display_name }),
      self ? t('care.members.leave') : t('care.members.remove'), true);
    if (!ok) return;
    await care.removeMember(ctx.group.id, m.user_id);
    toast(self ? t('care.members.left') : t('care.members.removed', { name: m.display_name }), 'success');
    if (self) navigate('/care');
    else ctx.reload();
  };
  const table = dataTable<CareMember>([
    { label: t('care.members.name'), cell: (m) => m.display_name },
    { label: t('users.occupation'), cell: (m) => tDynamic('occupation', m.occupation) },
    { label: t('care.members.role'), cell: (m) => (m.role === 'owner' ? t('care.owner') : t('care.members.member')) },
    { label: t('care.members.addedAt'), cell: (m) => formatDateTime(m.added_at) },
    {
      label: t('common.actions'), className: 'no-print',
      cell: (m) => {
        if (!open || ctx.family || m.role === 'owner') return '';
        if (m.user_id !== me?.id && !iAmOwner) return '';
        return h('button', { type: 'button', class: 'button small danger-outline', onclick: () => void remove(m) },
          m.user_id === me?.id ? t('care.members.leave') : t('care.members.remove'));
      },
    },
  ], members, { empty: t('care.members.none'), testid: 'care-members', rowTestId: (m) => `care-member-${m.user_id}` });
  clear(panel,
    open && !ctx.family ? h('div', { class: 'care-toolbar no-print' },
      h('button', { type: 'button', class: 'button primary', testid: 'care-add-member', onclick: () => openMemberPicker(ctx) }, t('care.members.addTitle'))) : null,
    table,
    me ? h('p', { class: 'field-hint', testid: 'care-my-number' }, t('care.members.myNumber', { id: me.id })) : null,
    open && !ctx.family ? invitationsSection(ctx) : null,
    open && iAmOwner ? h('div', { class: 'actions no-print' }, h('button', {
      type: 'button', class: 'button danger-outline', testid: 'care-archive',
      onclick: async () => {
        if (!(await confirmDialog(t('care.archiveConfirm'), t('care.archive'), true))) return;
        await care.archive(ctx.group.id);
        toast(t('care.archivedToast'), 'success');
        ctx.reload();
      },
    }, t('care.archive'))) : null);
  return { panel, show: () => undefined };
}
