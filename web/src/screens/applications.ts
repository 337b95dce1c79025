// Secretariat: participation applications, approve (shows the invitation URL) or reject.
import { h, clear } from '../ui/dom';
import { t, tDynamic, formatDateTime } from '../i18n';
import { api, ApiError, query } from '../api/client';
import { kApplicationStatuses, type Application, type ApplicationStatus, type Facility } from '../api/types';
import { formError, busy, submitButton } from '../ui/forms';
import { dataTable } from '../ui/table';
import { openDialog, confirmDialog } from '../ui/dialog';
import { pageTitle, loading } from '../ui/layout';
import { toast } from '../ui/toast';
import type { Screen } from '../router';

function showInvitation(url: string): void {
  const field = h('input', { class: 'input mono', readonly: true, value: url, testid: 'invitation-url', 'aria-label': t('applications.invitationUrl') });
  const copy = h('button', {
    type: 'button', class: 'button',
    onclick: async () => {
      field.select();
      try {
        await navigator.clipboard.writeText(url);
        toast(t('common.copied'), 'success');
      } catch {
        document.execCommand('copy');
      }
    },
  }, t('common.copy'));
  openDialog(t('applications.approve'), h('div', null,
    h('p', { class: 'notice notice-ok' }, t('applications.approved')),
    h('div', { class: 'copy-row' }, field, copy)), { wide: true });
}

function rejectDialog(app: Application, done: () => void): void {
  const error = formError();
  const reason = h('textarea', { id: 'reject-reason', class: 'input', rows: '4', required: true, testid: 'reject-reason' });
  const submit = submitButton(t('applications.reject'), 'reject-submit');
  submit.classList.replace('primary', 'danger');
  const form = h('form', {
    class: 'form',
    onsubmit: async (e: Event) => {
      e.preventDefault();
      error.hide();
      try {
        await busy(submit, () => api.post(`/applications/${app.id}/reject`, { reason: reason.value.trim() }, { quiet: true }));
      } catch (err) {
        error.show(err instanceof ApiError ? err.userMessage : t('error.generic'));
        return;
      }
      dlg.close();
      toast(t('applications.rejected'), 'success');
      done();
    },
  },
  error.el,
  h('p', null, app.facility.name ?? ''),
  h('div', { class: 'field' }, h('label', { for: 'reject-reason', class: 'field-label' }, t('applications.rejectReason')), reason),
  h('div', { class: 'actions' }, submit));
  const dlg = openDialog(t('applications.rejectTitle'), form);
  reason.focus();
}

export const applicationsScreen: Screen = async ({ root, query: q }) => {
  document.title = `${t('applications.title')} | ${t('app.name')}`;
  let status: ApplicationStatus = (kApplicationStatuses as readonly string[]).includes(q.get('status') ?? '')
    ? (q.get('status') as ApplicationStatus) : 'pending';
  const list = h('div', null, loading());

  const tabs = h('div', { class: 'segmented', role: 'group', 'aria-label': t('applications.filter') });
  const renderTabs = () => {
    clear(tabs, kApplicationStatuses.map((s) => h('button', {
      type: 'button', class: 'segment', 'aria-pressed': s === status ? 'true' : 'false', testid: `status-${s}`,
      onclick: () => {
        status = s;
        history.replaceState(null, '', `/applications${query({ status: s })}`);
        renderTabs();
        void reload();
      },
    }, tDynamic('appStatus', s))));
  };

  const reload = async () => {
    clear(list, loading());
    let items: Application[];
    try {
      items = (await api.get<{ items: Application[] }>(`/applications${query({ status })}`)).items;
    } catch {
      clear(list, h('p', { class: 'empty-state' }, t('error.generic')));
      return;
    }
    clear(list, dataTable<Application>(
      [
        { label: t('applications.submittedAt'), cell: (a) => formatDateTime(a.created_at ?? a.submitted_at) },
        {
          label: t('applications.facility'),
          cell: (a) => [
            h('strong', null, a.facility.name ?? ''),
            h('span', { class: 'sub' }, [a.facility.type ? tDynamic('facilityType', a.facility.type) : '', a.facility.code ?? ''].filter(Boolean).join(' · ')),
            h('span', { class: 'sub' }, a.facility.address ?? ''),
          ] as never,
        },
        { label: t('facilities.area'), cell: (a) => a.facility.area_name ?? a.facility.area ?? '' },
        {
          label: t('applications.applicant'),
          cell: (a) => [h('span', null, a.applicant_name), h('span', { class: 'sub' }, a.applicant_email)] as never,
        },
        {
          label: t('common.status'),
          cell: (a) => [
            h('span', { class: `status status-${a.status}` }, tDynamic('appStatus', a.status)),
            a.reason || a.reject_reason ? h('span', { class: 'sub' }, `${t('applications.reason')}: ${a.reason ?? a.reject_reason}`) : null,
          ] as never,
        },
        {
          label: t('common.actions'), className: 'cell-actions',
          cell: (a) => a.status !== 'pending' ? '' : h('div', { class: 'row-actions' },
            h('button', {
              type: 'button', class: 'button small primary', testid: 'approve',
              onclick: async (e: Event) => {
                const btn = e.currentTarget as HTMLButtonElement;
                if (!(await confirmDialog(t('applications.approveConfirm', { name: a.facility.name ?? '' }), t('applications.approve')))) return;
                try {
                  const answer = await busy(btn, () =>
                    api.post<{ facility: Facility; invitation_url: string }>(`/applications/${a.id}/approve`));
                  showInvitation(answer.invitation_url);
                } catch {
                  return;
                }
                void reload();
              },
            }, t('applications.approve')),
            h('button', { type: 'button', class: 'button small danger-outline', testid: 'reject', onclick: () => rejectDialog(a, () => void reload()) }, t('applications.reject'))),
        },
      ],
      items,
      { empty: t('applications.empty'), caption: t('applications.title'), testid: 'applications-table', rowTestId: (a) => `application-${a.id}` },
    ));
  };

  renderTabs();
  clear(root, pageTitle(t('applications.title'), tabs), h('section', { class: 'card' }, list));
  await reload();
};
