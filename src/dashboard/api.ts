// The dashboard's client: the page's own origin, the session's key.
import { ApiRequestError, TrainyardClient } from '../client/api-client.js';
import { loadKey } from './auth.js';

export const api = new TrainyardClient({ baseUrl: '', apiKey: loadKey() });

/** Listeners for "the API refused our key" (the shell opens the key form). */
const unauthorized = new Set<() => void>();
export function onUnauthorized(fn: () => void): void {
  unauthorized.add(fn);
}
export function reportError(err: unknown): void {
  if (err instanceof ApiRequestError && err.status === 401) for (const fn of unauthorized) fn();
}
