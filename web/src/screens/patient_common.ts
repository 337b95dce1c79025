// Pieces shared by the patient page's tabs: the facility directory, the
// explanation shown when the API refuses clinical data, small formatters.
import { h, clear } from '../ui/dom';
import { t, tDynamic } from '../i18n';
import { api, ApiError } from '../api/client';
import type { Consent, Facility, Patient } from '../api/types';
import { session } from '../session';

let facilityCache: Promise<Facility[]> | null = null;

/** Every participating facility (loaded once per page load). */
export function facilities(): Promise<Facility[]> {
  if (!facilityCache) {
    facilityCache = api.get<{ items: Facility[] }>('/facilities', { quiet: true })
      .then((page) => page.items)
      .catch((err: unknown) => {
        facilityCache = null;
        throw err;
      });
  }
  return facilityCache;
}

export function regionalIdText(id: string): string {
  return id.replace(/^(\d{4})(\d{4})(\d{4})$/, '$1-$2-$3');
}

/** Context a tab needs: the patient and how to switch to another tab. */
export interface PatientTabContext {
  patient: Patient;
  showTab: (id: string) => void;
  /** Reloads the whole patient page (after link changes or a merge). */
  reload: () => void;
}

/**
 * The "consent is required" explanation with a way to the consent tab.
 * `forbidden`: the API refused everything (403); otherwise the viewer sees
 * only what its own facility recorded, because no active consent lets it
 * see other facilities' data.
 */
export function consentNotice(ctx: PatientTabContext, forbidden: boolean): HTMLElement {
  const admin = session.user?.role === 'network_admin';
  return h('div', { class: 'notice notice-consent', role: forbidden ? 'alert' : 'status', testid: 'consent-required' },
    h('h3', { class: 'notice-title' }, admin ? t('clinical.adminNoDataTitle') : t('clinical.consentRequiredTitle')),
    h('p', null, admin ? t('clinical.adminNoDataBody') : forbidden ? t('clinical.consentRequiredBody') : t('clinical.ownDataOnly')),
    admin ? null : h('p', { class: 'field-hint' }, t('clinical.consentRequiredHint')),
    h('p', { class: 'notice-actions no-print' },
      h('a', {
        href: `/patients/${ctx.patient.regional_id}?tab=consents`, class: 'button primary', testid: 'go-consents',
        onclick: (e: Event) => { e.preventDefault(); ctx.showTab('consents'); },
      }, t('clinical.toConsents'))));
}

/** A one-line note: only the own facility's data is shown (no consent for others). */
export function ownDataNote(ctx: PatientTabContext): HTMLElement {
  return h('p', { class: 'notice notice-info', role: 'note', testid: 'own-data-only' },
    t('clinical.ownDataShort'), ' ',
    h('a', {
      href: `/patients/${ctx.patient.regional_id}?tab=consents`, class: 'no-print',
      onclick: (e: Event) => { e.preventDefault(); ctx.showTab('consents'); },
    }, t('clinical.toConsents')));
}

/**
 * Whether an active clinical-sharing or dispensing consent lets the user's
 * facility see data of other facilities: true/false, or null when the
 * consents cannot be read (then no explanation is shown).
 */
export async function othersCovered(rid: string): Promise<boolean | null> {
  const me = session.user;
  if (!me) return null;
  try {
    const answer = await api.get<{ items: Consent[] }>(`/patients/${encodeURIComponent(rid)}/consents`, { quiet: true });
    return (answer.items ?? []).some((c) =>
      c.status === 'active' &&
      (c.scope === 'clinical_sharing' || c.scope === 'dispensing') &&
      (c.viewer_facility_id === 0 || c.viewer_facility_id === me.facility_id) &&
      c.source_facility_id !== me.facility_id);
  } catch {
    return null;
  }
}

/**
 * Shows why clinical data could not be loaded. 403 means no consent covers
 * the viewer (or the secretariat, which sees no clinical data at all); 401 is
 * handled by the API client (back to the login page).
 */
export function showClinicalError(
  panel: HTMLElement,
  err: unknown,
  ctx: PatientTabContext,
  retry: () => void,
): void {
  if (err instanceof ApiError && err.status === 403) {
    clear(panel, consentNotice(ctx, true));
    return;
  }
  if (err instanceof ApiError && err.status === 401) {
    clear(panel, h('p', { class: 'empty-state' }, t('error.sessionExpired')));
    return;
  }
  const message = err instanceof ApiError ? err.userMessage : t('error.generic');
  clear(panel, h('div', { class: 'empty-state', role: 'alert', testid: 'clinical-error' },
    h('p', null, message),
    h('p', null, h('button', { type: 'button', class: 'button', onclick: retry }, t('common.retry')))));
}

/** A label for a facility id of a consent: 0 means any facility. */
export function facilityLabel(id: number, name: string): string {
  if (!id) return t('consents.anyFacility');
  return name || `#${id}`;
}

/** Translates a code with a catalogue prefix, or shows it as sent. */
export function codeLabel(prefix: string, value: string | undefined): string {
  if (!value) return '';
  return tDynamic(prefix, value);
}
