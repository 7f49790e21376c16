// A titled section around a chart: the chart's numbers as a table (in <details>) and
// as CSV straight from the API (fetched with the key, saved as a file).
import { h, saveFile, replace } from './dom.js';
import { fmt } from './format.js';
import { reportError } from './api.js';

export interface Panel {
  section: HTMLElement;
  body: HTMLElement;
  setTable(header: string[], rows: (string | number | null)[][]): void;
}

export function panel(title: string, options: { id: string; csv?: () => Promise<string>; csvName?: string; note?: string }): Panel {
  const body = h('div', { class: 'panel-body' });
  const tableHolder = h('div', { class: 'numbers' });
  const details = h('details', {}, h('summary', {}, 'Numbers'), tableHolder);
  const csvButton = options.csv
    ? h('button', {
        type: 'button', class: 'secondary small', 'data-csv': options.id,
        onclick: async () => {
          try {
            saveFile(options.csvName ?? `${options.id}.csv`, await options.csv!(), 'text/csv');
          } catch (err) {
            reportError(err);
          }
        },
      }, 'CSV')
    : null;
  const section = h('section', { class: 'panel', id: options.id, 'aria-labelledby': `${options.id}-title` },
    h('div', { class: 'panel-head' }, h('h2', { id: `${options.id}-title` }, title), csvButton),
    options.note ? h('p', { class: 'muted small' }, options.note) : null,
    body,
    details,
  );
  return {
    section,
    body,
    setTable(header, rows) {
      replace(tableHolder, h('table', { class: 'data' },
        h('thead', {}, h('tr', {}, header.map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, typeof c === 'number' ? fmt(c) : (c ?? '–')))))),
      ));
    },
  };
}
