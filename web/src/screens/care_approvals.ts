// Secretariat: new care groups waiting for approval (when the network
// requires it, --care-group-approval). Approve, or reject with a reason.
import { h, clear } from '../ui/dom';
import { t, formatDateTime } from '../i18n';
import { ApiError } from '../api/client';
import { care, type CareGroup } from '../api/care';
import { formError, busy, submitButton } from '../ui/forms';
import { dataTable } from '../ui/table';
import { openDialog, confirmDialog } from '../ui/dialog';
import { pageTitle, loading } from '../ui/layout';
import { toast } from '../ui/toast';
import type { Screen } from '../router';

function rejectDialog(group: CareGroup, done: () => void): void {
  const error = formError();
  const reason = h('textarea', { id: 'care-reject-reason', class: 'input', rows: '4', required: true, testid: 'care-reject-reason' });
  const submit = submitButton(t('careApprovals.reject'), 'care-reject-submit');
  submit.classList.replace('primary', 'danger');
  const dlg = openDialog(t('careApprovals.rejectTitle'), h('form', {
    class: 'form',
    onsubmit: async (e: Event) => {
      e.preventDefault();
      error.hide();
      try {
        await busy(submit, () => care.decideGroup(group.id, 'reject', reason.value.trim()));
      } catch (err) {
        error.show(err instanceof ApiError ? err.userMessage : t('error.generic'));
        return;
      }
      dlg.close();
      toast(t('careApprovals.rejected', { name: group.name }), 'success');
      done();
    },
  },
  error.el,
  h('p', null, group.name),
  h('div', { class: 'field' }, h('label', { for: 'care-reject-reason', class: 'field-label' }, t('careApprovals.reason')), reason),
  h('div', { class: 'actions' }, submit)));
  reason.focus();
}

export const careApprovalsScreen: Screen = async ({ root }) => {
  document.title = `${t('careApprovals.title')} | ${t('app.name')}`;
  const list = h('div', null, loading());
  const reload = async () => {
    clear(list, loading());
    let items: CareGroup[];
    try {
      items = await care.pendingGroups();
    } catch (err) {
      clear(list, h('p', { class: 'empty-state', role: 'alert' }, err instanceof ApiError ? err.userMessage : t('error.generic')));
      return;
    }
    clear(list, dataTable<CareGroup>(
      [
        { label: t('careApprovals.createdAt'), cell: (g) => formatDateTime(g.created_at) },
        { label: t('careApprovals.group'), cell: (g) => [h('strong', null, g.name), h('span', { class: 'sub' }, g.regional_id)] as never },
        {
          label: t('common.actions'), className: 'cell-actions',
          cell: (g) => h('div', { class: 'row-actions' },
            h('button', {
              type: 'button', class: 'button small primary', testid: 'care-approve',
              onclick: async (e: Event) => {
                const btn = e.currentTarget as HTMLButtonElement;
                if (!(await confirmDialog(t('careApprovals.approveConfirm', { name: g.name }), t('careApprovals.approve')))) return;
                try {
                  await busy(btn, () => care.decideGroup(g.id, 'approve'));
                } catch (err) {
                  toast(err instanceof ApiError ? err.userMessage : t('error.generic'), 'error');
                  return;
                }
                toast(t('careApprovals.approved', { name: g.name }), 'success');
                void reload();
              },
            }, t('careApprovals.approve')),
            h('button', { type: 'button', class: 'button small danger-outline', testid: 'care-reject', onclick: () => rejectDialog(g, () => void reload()) }, t('careApprovals.reject'))),
        },
      ],
      items,
      { empty: t('careApprovals.empty'), caption: t('careApprovals.title'), testid: 'care-approvals-table', rowTestId: (g) => `care-approval-${g.id}` },
    ));
  };
  clear(root, pageTitle(t('careApprovals.title')), h('p', { class: 'lead' }, t('careApprovals.lead')), h('section', { class: 'card' }, list));
  await reload();
};
