// Secretariat: system clients (hospital EHRs, pharmacy systems) that call the
// FHIR API with OAuth client credentials (private_key_jwt). List, register
// with a pasted public key (JWK or PEM), disable.
import { h, clear } from '../ui/dom';
import { t, tDynamic, formatDateTime } from '../i18n';
import { api, ApiError, query } from '../api/client';
import { kOccupations, type Facility, type SystemClient } from '../api/types';
import { formError, busy, submitButton, inputField, selectField, switchField } from '../ui/forms';
import { dataTable } from '../ui/table';
import { openDialog, confirmDialog } from '../ui/dialog';
import { pageTitle, loading } from '../ui/layout';
import { toast } from '../ui/toast';
import type { Screen } from '../router';

const kReadAll = 'system/*.read';
const kWriteAll = 'system/*.write';

function copyRow(value: string, label: string, testid: string): HTMLElement {
  const field = h('input', { class: 'input mono', readonly: true, value, testid, 'aria-label': label });
  const copy = h('button', {
    type: 'button', class: 'button',
    onclick: async () => {
      field.select();
      try {
        await navigator.clipboard.writeText(value);
        toast(t('common.copied'), 'success');
      } catch {
        document.execCommand('copy');
      }
    },
  }, t('common.copy'));
  return h('div', { class: 'field' }, h('span', { class: 'field-label' }, label), h('div', { class: 'copy-row' }, field, copy));
}

function showRegistered(client: SystemClient): void {
  openDialog(t('systemClients.registered'), h('div', null,
    h('p', { class: 'notice notice-ok' }, t('systemClients.registeredBody')),
    copyRow(client.client_id, t('systemClients.clientId'), 'new-client-id'),
    copyRow(client.token_endpoint, t('systemClients.tokenEndpoint'), 'token-endpoint')), { wide: true });
}

function registerDialog(facilities: Facility[], done: () => void): void {
  const error = formError();
  const name = inputField({ label: t('systemClients.name'), name: 'client-name', required: true, maxlength: 100, hint: t('systemClients.nameHint'), testid: 'client-name' });
  const active = facilities.filter((f) => f.status === 'active');
  const facility = selectField({
    label: t('systemClients.facility'), name: 'client-facility', required: true, testid: 'client-facility',
    options: [{ value: '', label: t('systemClients.chooseFacility') },
      ...active.map((f) => ({ value: String(f.id), label: `${f.name}（${tDynamic('facilityType', f.type)}）` }))],
  });
  const occupation = selectField({
    label: t('systemClients.occupation'), name: 'client-occupation', testid: 'client-occupation', hint: t('systemClients.occupationHint'),
    options: [{ value: '', label: t('systemClients.occupationDefault') },
      ...kOccupations.filter((o) => o !== 'family').map((o) => ({ value: o, label: tDynamic('occupation', o) }))],
  });
  const read = switchField({ label: t('systemClients.scopeRead'), name: 'scope-read', checked: true, testid: 'scope-read' });
  const write = switchField({ label: t('systemClients.scopeWrite'), name: 'scope-write', checked: false, testid: 'scope-write' });
  const more = inputField({ label: t('systemClients.scopeMore'), name: 'scope-more', hint: t('systemClients.scopeMoreHint'), placeholder: 'system/Observation.cru', testid: 'scope-more' });
  const keyId = 'client-public-key';
  const key = h('textarea', { id: keyId, class: 'input mono', rows: '8', required: true, testid: 'client-public-key', 'aria-describedby': `${keyId}-hint`, spellcheck: 'false' });
  const submit = submitButton(t('systemClients.register'), 'client-submit');

  const form = h('form', {
    class: 'form',
    onsubmit: async (e: Event) => {
      e.preventDefault();
      error.hide();
      const scopes = [read.input.checked ? kReadAll : '', write.input.checked ? kWriteAll : '',
        ...more.input.value.split(/[\s,、]+/)].map((s) => s.trim()).filter(Boolean);
      if (!facility.select.value) {
        error.show(t('systemClients.facilityRequired'));
        return;
      }
      if (scopes.length === 0) {
        error.show(t('systemClients.scopeRequired'));
        return;
      }
      let client: SystemClient;
      try {
        client = await busy(submit, () => api.post<SystemClient>('/system-clients', {
          name: name.input.value.trim(),
          facility_id: Number(facility.select.value),
          occupation: occupation.select.value || null,
          scopes,
          public_key: key.value,
        }, { quiet: true }));
      } catch (err) {
        error.show(err instanceof ApiError ? err.userMessage : t('error.generic'));
        return;
      }
      dlg.close();
      done();
      showRegistered(client);
    },
  },
  error.el,
  name.wrap, facility.wrap, occupation.wrap,
  h('fieldset', { class: 'fieldset' }, h('legend', { class: 'field-label' }, t('systemClients.scopes')), read.wrap, write.wrap, more.wrap),
  h('div', { class: 'field' },
    h('label', { for: keyId, class: 'field-label' }, t('systemClients.publicKey'), h('span', { class: 'badge-required' }, t('common.required'))),
    key,
    h('p', { class: 'field-hint', id: `${keyId}-hint` }, t('systemClients.publicKeyHint'))),
  h('div', { class: 'actions' }, submit));
  const dlg = openDialog(t('systemClients.registerTitle'), form, { wide: true });
  name.input.focus();
}

export const systemClientsScreen: Screen = async ({ root }) => {
  document.title = `${t('systemClients.title')} | ${t('app.name')}`;
  const list = h('div', null, loading());
  let facilities: Facility[] = [];

  const reload = async () => {
    clear(list, loading());
    let items: SystemClient[];
    try {
      items = (await api.get<{ items: SystemClient[] }>('/system-clients')).items;
    } catch {
      clear(list, h('p', { class: 'empty-state' }, t('error.generic')));
      return;
    }
    clear(list, dataTable<SystemClient>(
      [
        {
          label: t('systemClients.name'),
          cell: (c) => [h('strong', null, c.name), h('span', { class: 'sub' }, tDynamic('occupation', c.occupation))] as never,
        },
        { label: t('systemClients.facility'), cell: (c) => c.facility_name || String(c.facility_id) },
        { label: t('systemClients.clientId'), cell: (c) => h('code', { class: 'mono', testid: 'client-id' }, c.client_id) },
        { label: t('systemClients.scopes'), cell: (c) => h('span', { class: 'mono' }, c.scopes.join(' ')) },
        { label: t('common.createdAt'), cell: (c) => formatDateTime(c.created_at) },
        {
          label: t('common.status'),
          cell: (c) => [
            h('span', { class: `status status-${c.status === 'active' ? 'on' : 'off'}`, testid: 'client-status' }, tDynamic('systemClients.status', c.status)),
            c.disabled_at ? h('span', { class: 'sub' }, formatDateTime(c.disabled_at)) : null,
          ] as never,
        },
        {
          label: t('common.actions'), className: 'cell-actions',
          cell: (c) => c.status !== 'active' ? '' : h('button', {
            type: 'button', class: 'button small danger-outline', testid: 'disable-client',
            onclick: async (e: Event) => {
              const btn = e.currentTarget as HTMLButtonElement;
              if (!(await confirmDialog(t('systemClients.disableConfirm', { name: c.name }), t('systemClients.disable'), true))) return;
              try {
                await busy(btn, () => api.post(`/system-clients/${encodeURIComponent(c.client_id)}/disable`));
              } catch {
                return;
              }
              toast(t('systemClients.disabled'), 'success');
              void reload();
            },
          }, t('systemClients.disable')),
        },
      ],
      items,
      { empty: t('systemClients.empty'), caption: t('systemClients.title'), testid: 'system-clients-table', rowTestId: (c) => `client-${c.client_id}` },
    ));
  };

  const add = h('button', {
    type: 'button', class: 'button primary', testid: 'register-client',
    onclick: async () => {
      if (facilities.length === 0) {
        try {
          facilities = (await api.get<{ items: Facility[] }>(`/facilities${query({ limit: 200 })}`)).items;
        } catch {
          return;
        }
      }
      registerDialog(facilities, () => void reload());
    },
  }, t('systemClients.register'));

  clear(root, pageTitle(t('systemClients.title'), add),
    h('p', { class: 'lead' }, t('systemClients.lead')),
    h('section', { class: 'card' }, list));
  await reload();
};
