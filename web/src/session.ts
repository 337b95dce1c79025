// The logged-in user, loaded from the server and kept in memory only.
import { api, setCsrfToken } from './api/client';
import type { SessionAnswer, User } from './api/types';

let current: User | null = null;
let probed = false;

export const session = {
  get user(): User | null {
    return current;
  },
  set(answer: SessionAnswer): void {
    current = answer.user;
    setCsrfToken(answer.csrf_token);
    probed = true;
  },
  updateUser(user: User): void {
    current = user;
  },
  clear(): void {
    current = null;
    setCsrfToken('');
    probed = true;
  },
  /** Asks the server for the session once per page load (or when forced). */
  async load(force = false): Promise<User | null> {
    if (probed && !force) return current;
    try {
      const answer = await api.get<SessionAnswer>('/auth/me', { quiet: true, allowUnauthenticated: true });
      session.set(answer);
    } catch {
      session.clear();
    }
    return current;
  },
};

/** Where a user with unfinished account setup has to go first, if anywhere. */
export function forcedPath(user: User): string | null {
  if (user.must_change_password) return '/account/password';
  if (user.mfa_enrollment_required) return '/account/totp';
  return null;
}
