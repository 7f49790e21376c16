// Sweeps: the place for the trials table (sorted by objective), their curves
// overlaid and pruned trials marked with the pruner's reason — built on
// GET /v1/sweeps, /v1/sweeps/{id}/trials and /decisions once the sweeps API exists.
import { h } from '../dom.js';
import type { Page } from '../router.js';

export function sweepsPage(): Page {
  return {
    render(root) {
      root.append(
        h('h1', {}, 'Sweeps'),
        h('p', { class: 'muted' }, 'This service has no sweeps API yet. Meanwhile, compare trials by hand: pick jobs on the ',
          h('a', { href: '/', 'data-link': true }, 'jobs page'), ' and press “Compare selected”.'),
      );
    },
  };
}
