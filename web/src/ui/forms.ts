// Labelled form controls with hints and inline errors.
import { h, uid, clear } from './dom';
import { t } from '../i18n';

export interface FieldOptions {
  label: string;
  name: string;
  type?: string;
  value?: string;
  required?: boolean;
  hint?: string;
  autocomplete?: string;
  inputmode?: string;
  pattern?: string;
  maxlength?: number;
  minlength?: number;
  placeholder?: string;
  testid?: string;
  autofocus?: boolean;
}

function labelFor(id: string, label: string, required?: boolean): HTMLLabelElement {
  return h(
    'label',
    { for: id, class: 'field-label' },
    label,
    required
      ? h('span', { class: 'badge-required' }, t('common.required'))
      : null,
  );
}

export function inputField(o: FieldOptions): { wrap: HTMLElement; input: HTMLInputElement } {
  const id = uid(o.name);
  const hintId = o.hint ? `${id}-hint` : undefined;
  const input = h('input', {
    id, name: o.name, type: o.type ?? 'text', value: o.value, required: o.required,
    autocomplete: o.autocomplete ?? 'off', inputmode: o.inputmode, pattern: o.pattern,
    maxlength: o.maxlength, minlength: o.minlength, placeholder: o.placeholder,
    'aria-describedby': hintId, testid: o.testid, autofocus: o.autofocus,
    class: 'input',
  });
  const wrap = h(
    'div',
    { class: 'field' },
    labelFor(id, o.label, o.required),
    input,
    o.hint ? h('p', { class: 'field-hint', id: hintId }, o.hint) : null,
  );
  return { wrap, input };
}

export interface SelectOption {
  value: string;
  label: string;
}

export function selectField(o: {
  label: string;
  name: string;
  options: SelectOption[];
  value?: string;
  required?: boolean;
  hint?: string;
  testid?: string;
}): { wrap: HTMLElement; select: HTMLSelectElement } {
  const id = uid(o.name);
  const select = h(
    'select',
    { id, name: o.name, required: o.required, class: 'input', testid: o.testid },
    o.options.map((opt) => h('option', { value: opt.value }, opt.label)),
  );
  if (o.value !== undefined) select.value = o.value;
  const wrap = h(
    'div',
    { class: 'field' },
    labelFor(id, o.label, o.required),
    select,
    o.hint ? h('p', { class: 'field-hint' }, o.hint) : null,
  );
  return { wrap, select };
}

export function switchField(o: {
  label: string;
  name: string;
  checked: boolean;
  hint?: string;
  testid?: string;
}): { wrap: HTMLElement; input: HTMLInputElement } {
  const id = uid(o.name);
  const input = h('input', {
    id, name: o.name, type: 'checkbox', role: 'switch', class: 'switch-input',
    checked: o.checked, testid: o.testid,
  });
  const wrap = h(
    'div',
    { class: 'field field-switch' },
    input,
    h('label', { for: id, class: 'switch-label' }, o.label),
    o.hint ? h('p', { class: 'field-hint' }, o.hint) : null,
  );
  return { wrap, input };
}

/** An alert region inside a form for its error messages. */
export function formError(): { el: HTMLElement; show: (msg: string) => void; hide: () => void } {
  const el = h('div', { class: 'form-error', role: 'alert', testid: 'form-error', hidden: true });
  return {
    el,
    show: (msg: string) => {
      clear(el, msg);
      el.hidden = false;
    },
    hide: () => {
      clear(el);
      el.hidden = true;
    },
  };
}

/** Disables a button while an async action runs. */
export async function busy<T>(button: HTMLButtonElement, action: () => Promise<T>): Promise<T> {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await action();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

export function submitButton(label: string, testid?: string): HTMLButtonElement {
  return h('button', { type: 'submit', class: 'button primary', testid }, label);
}

/** Splits "a、b, c" into trimmed non-empty entries. */
export function splitList(text: string): string[] {
  return text
    .split(/[,、，;；\n]/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Converts full-width digits and hyphens to ASCII (common in Japanese input). */
export function toHalfWidth(text: string): string {
  return text
    .replace(/[０-９Ａ-Ｚａ-ｚ]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/[－ー―‐]/g, '-')
    .trim();
}

/** Converts hiragana to katakana (for kana fields that must be katakana). */
export function toKatakana(text: string): string {
  return text.replace(/[\u3041-\u3096]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0x60));
}

/** Shows a 7-digit Japanese postcode as 123-4567. */
export function formatPostcode(postcode: string): string {
  const digits = toHalfWidth(postcode).replace(/\D/g, '');
  return digits.length === 7 ? `${digits.slice(0, 3)}-${digits.slice(3)}` : postcode;
}
