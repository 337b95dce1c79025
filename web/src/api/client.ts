// The one fetch wrapper of the app: JSON in and out, session cookie, CSRF
// header on state-changing requests, errors turned into ApiError and shown.
import { t, hasKey } from '../i18n';
import { toast } from '../ui/toast';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The text to show a user: the server's plain message, else a generic one. */
  get userMessage(): string {
    if (this.message) return this.message;
    const key = `error.${this.code}`;
    return hasKey(key) ? t(key) : t('error.generic');
  }
}

export interface RequestOptions {
  /** Do not show a toast for errors: the caller shows them itself. */
  quiet?: boolean;
  /** A 401 is an expected answer (login, probing the session). */
  allowUnauthenticated?: boolean;
}

const kBase = '/api/v1';
let csrfToken = '';
let onSessionExpired: (() => void) | null = null;

export function setCsrfToken(token: string): void {
  csrfToken = token;
}

export function setSessionExpiredHandler(fn: () => void): void {
  onSessionExpired = fn;
}

async function request<T>(
  method: string,
  path: string,
  body?: unknown,
  options: RequestOptions = {},
): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;

  let response: Response;
  try {
    response = await fetch(kBase + path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    const error = new ApiError(0, 'network', t('error.network'));
    if (!options.quiet) toast(error.userMessage, 'error');
    throw error;
  }

  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined;
    }
  }
  if (response.ok) return data as T;

  const err = (data as { error?: { code?: string; message?: string } } | undefined)?.error;
  const error = new ApiError(response.status, err?.code ?? 'internal', err?.message ?? '');
  if (response.status === 401 && !options.allowUnauthenticated) {
    csrfToken = '';
    onSessionExpired?.();
    throw error;
  }
  if (!options.quiet) toast(error.userMessage, 'error');
  throw error;
}

/** Builds a query string from the non-empty values. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

export const api = {
  get: <T>(path: string, options?: RequestOptions) => request<T>('GET', path, undefined, options),
  post: <T>(path: string, body?: unknown, options?: RequestOptions) =>
    request<T>('POST', path, body ?? {}, options),
  patch: <T>(path: string, body: unknown, options?: RequestOptions) =>
    request<T>('PATCH', path, body, options),
  put: <T>(path: string, body: unknown, options?: RequestOptions) =>
    request<T>('PUT', path, body, options),
  del: <T>(path: string, options?: RequestOptions) =>
    request<T>('DELETE', path, undefined, options),
};
