// Public participation application (no login).
import { h, clear } from '../ui/dom';
import { t, tDynamic } from '../i18n';
import { api, ApiError } from '../api/client';
import { kCodedFacilityTypes, kFacilityTypes, type Area, type FacilityType } from '../api/types';
import { inputField, selectField, formError, busy, submitButton, splitList, toHalfWidth, toKatakana } from '../ui/forms';
import { pageTitle } from '../ui/layout';
import type { Screen } from '../router';

const kDepartmentTypes: readonly FacilityType[] = ['hospital', 'clinic', 'dental_clinic'];

export const applyScreen: Screen = async ({ root }) => {
  document.title = `${t('apply.title')} | ${t('app.name')}`;
  let areas: Area[] = [];
  try {
    areas = (await api.get<{ items: Area[] }>('/areas', { allowUnauthenticated: true })).items;
  } catch {
    areas = [];
  }

  const error = formError();
  const type = selectField({
    label: t('apply.type'), name: 'type', required: true, testid: 'apply-type',
    options: [{ value: '', label: t('apply.typeChoose') }, ...kFacilityTypes.map((v) => ({ value: v, label: tDynamic('facilityType', v) }))],
  });
  const code = inputField({ label: t('apply.code'), name: 'code', inputmode: 'numeric', maxlength: 10, hint: t('apply.codeHint'), testid: 'apply-code' });
  const name = inputField({ label: t('apply.name'), name: 'name', required: true, testid: 'apply-name', autocomplete: 'organization' });
  const kana = inputField({ label: t('apply.kana'), name: 'kana', required: true, testid: 'apply-kana' });
  const postcode = inputField({ label: t('apply.postcode'), name: 'postcode', required: true, inputmode: 'numeric', hint: t('apply.postcodeHint'), autocomplete: 'postal-code', testid: 'apply-postcode' });
  const address = inputField({ label: t('apply.address'), name: 'address', required: true, autocomplete: 'street-address', testid: 'apply-address' });
  const phone = inputField({ label: t('apply.phone'), name: 'phone', type: 'tel', required: true, autocomplete: 'tel', testid: 'apply-phone' });
  const area = selectField({
    label: t('apply.area'), name: 'area', required: true, testid: 'apply-area',
    options: [{ value: '', label: t('apply.typeChoose') }, ...areas.map((a) => ({ value: a.code, label: a.name }))],
  });
  const departments = inputField({ label: t('apply.departments'), name: 'departments', hint: t('apply.listHint'), testid: 'apply-departments' });
  const services = inputField({ label: t('apply.services'), name: 'services', hint: t('apply.listHint'), testid: 'apply-services' });
  const applicantName = inputField({ label: t('apply.applicantName'), name: 'applicant_name', required: true, autocomplete: 'name', testid: 'apply-applicant-name' });
  const applicantEmail = inputField({ label: t('apply.applicantEmail'), name: 'applicant_email', type: 'email', required: true, autocomplete: 'email', testid: 'apply-applicant-email' });
  const applicantPhone = inputField({ label: t('apply.applicantPhone'), name: 'applicant_phone', type: 'tel', autocomplete: 'tel', testid: 'apply-applicant-phone' });

  const syncType = () => {
    const v = type.select.value as FacilityType | '';
    const coded = v !== '' && kCodedFacilityTypes.includes(v);
    code.wrap.hidden = !coded;
    code.input.required = coded;
    departments.wrap.hidden = !(v !== '' && kDepartmentTypes.includes(v));
  };
  type.select.addEventListener('change', syncType);
  kana.input.addEventListener('blur', () => { kana.input.value = toKatakana(kana.input.value.trim()); });
  syncType();

  const submit = submitButton(t('apply.submit'), 'apply-submit');
  const form = h(
    'form',
    {
      class: 'form',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        error.hide();
        const facilityType = type.select.value as FacilityType;
        const coded = kCodedFacilityTypes.includes(facilityType);
        const codeValue = toHalfWidth(code.input.value);
        if (coded && !/^\d{10}$/.test(codeValue)) {
          error.show(t('apply.codeInvalid'));
          code.input.focus();
          return;
        }
        const facility = {
          type: facilityType,
          ...(coded ? { code: codeValue } : {}),
          name: name.input.value.trim(),
          kana: toKatakana(kana.input.value.trim()),
          postcode: toHalfWidth(postcode.input.value),
          address: address.input.value.trim(),
          phone: toHalfWidth(phone.input.value),
          area: area.select.value,
          departments: departments.wrap.hidden ? [] : splitList(departments.input.value),
          services: splitList(services.input.value),
        };
        try {
          const answer = await busy(submit, () =>
            api.post<{ id: number | string; status: string }>(
              '/applications',
              {
                facility,
                applicant_name: applicantName.input.value.trim(),
                applicant_email: applicantEmail.input.value.trim(),
                applicant_phone: toHalfWidth(applicantPhone.input.value) || undefined,
              },
              { quiet: true, allowUnauthenticated: true },
            ),
          );
          showThanks(String(answer.id));
        } catch (err) {
          error.show(err instanceof ApiError ? err.userMessage : t('error.generic'));
          error.el.scrollIntoView({ block: 'center' });
        }
      },
    },
    error.el,
    h('fieldset', { class: 'fieldset' },
      h('legend', null, t('apply.facilitySection')),
      type.wrap, code.wrap, name.wrap, kana.wrap,
      h('div', { class: 'grid-2' }, postcode.wrap, phone.wrap),
      address.wrap, area.wrap, departments.wrap, services.wrap),
    h('fieldset', { class: 'fieldset' },
      h('legend', null, t('apply.applicantSection')),
      applicantName.wrap, applicantEmail.wrap, applicantPhone.wrap),
    h('div', { class: 'actions' }, submit),
  );

  const showThanks = (id: string) => {
    clear(
      root,
      h(
        'div',
        { class: 'narrow' },
        h(
          'section',
          { class: 'card done-card', testid: 'apply-thanks' },
          h('h1', { class: 'page-title', tabindex: '-1' }, t('apply.thanksTitle')),
          h('p', null, t('apply.thanksBody')),
          h('dl', { class: 'dl' }, h('dt', null, t('apply.thanksId')), h('dd', { class: 'mono big', testid: 'application-id' }, id)),
          h('div', { class: 'actions' }, h('a', { href: '/apply', class: 'button' }, t('apply.again'))),
        ),
      ),
    );
    root.querySelector<HTMLElement>('h1')?.focus();
  };

  clear(
    root,
    h('div', { class: 'narrow' }, pageTitle(t('apply.title')), h('p', { class: 'lead' }, t('apply.lead')), h('section', { class: 'card' }, form)),
  );
};
