// A job status as a badge: word and colour (never colour alone).
import { h } from './dom.js';

export function statusBadge(status: string, cancelRequested = false): HTMLElement {
  return h('span', { class: `badge status-${status}`, 'data-status': status }, cancelRequested && status === 'running' ? 'stopping' : status);
}

export const ACTIVE = ['queued', 'running'];
