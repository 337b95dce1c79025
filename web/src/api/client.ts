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
  const data = parseJson(await response.text());
  if (response.ok) return data as T;

  throw failure(response.status, data, options);
}

/** Turns an error answer into an ApiError (and a toast, or the login page on 401). */
function failure(status: number, data: unknown, options: RequestOptions): ApiError {
  const err = (data as { error?: { code?: string; message?: string } } | undefined)?.error;
  const error = new ApiError(status, err?.code ?? 'internal', err?.message ?? '');
  if (status === 401 && !options.allowUnauthenticated) {
    csrfToken = '';
    onSessionExpired?.();
    return error;
  }
  if (!options.quiet) toast(error.userMessage, 'error');
  return error;
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Sends a file as the raw request body (its own Content-Type), reporting
 * upload progress as a fraction 0..1; resolves with the JSON answer.
 */
export function upload<T>(
  path: string,
  file: Blob,
  contentType: string,
  onProgress?: (fraction: number) => void,
  options: RequestOptions = {},
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', kBase + path);
    xhr.withCredentials = true;
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.setRequestHeader('Content-Type', contentType);
    if (csrfToken) xhr.setRequestHeader('X-CSRF-Token', csrfToken);
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable && e.total > 0) onProgress?.(e.loaded / e.total);
    });
    xhr.addEventListener('load', () => {
      const data = parseJson(xhr.responseText);
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress?.(1);
        resolve(data as T);
      } else {
        reject(failure(xhr.status, data, options));
      }
    });
    const networkError = () => {
      const error = new ApiError(0, 'network', t('error.network'));
      if (!options.quiet) toast(error.userMessage, 'error');
      reject(error);
    };
    xhr.addEventListener('error', networkError);
    xhr.addEventListener('abort', networkError);
    xhr.send(file);
  });
}

/** Downloads a binary answer (a signed consent form) as a Blob. */
export async function fetchBlob(path: string, options: RequestOptions = {}): Promise<Blob> {
  let response: Response;
  try {
    response = await fetch(kBase + path, { credentials: 'same-origin' });
  } catch {
    const error = new ApiError(0, 'network', t('error.network'));
    if (!options.quiet) toast(error.userMessage, 'error');
    throw error;
  }
  if (response.ok) return response.blob();
  throw failure(response.status, parseJson(await response.text()), options);
}

/** The URL of an API path (for links the browser follows itself, e.g. downloads). */
export function apiUrl(path: string): string {
  return kBase + path;
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
