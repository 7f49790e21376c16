// Submit: a JSON editor prefilled with an example spec; a 400 lists each problem
// next to its JSON pointer (a click selects the field in the editor). Every new
// submission gets its own Idempotency-Key; pressing Submit again on the same text
// after a network failure reuses it, so a retry cannot create a second job.
import { ApiRequestError } from '../../client/api-client.js';
import type { ErrorDetail } from '../../client/types.js';
import { api, reportError } from '../api.js';
import { h, replace } from '../dom.js';
import { locatePointers, spanFor } from '../json-locate.js';
import { navigate, type Page } from '../router.js';

export const EXAMPLE_SPEC = {
  name: 'spirals-relu-adam',
  dataset: { name: 'synthetic/spirals', n: 600, validationSplit: 0.2, seed: 1 },
  model: {
    layers: [
      { type: 'dense', units: 32, activation: 'relu' },
      { type: 'dense', units: 32, activation: 'relu' },
      { type: 'dense', units: 3, activation: 'softmax' },
    ],
    init: 'he',
  },
  loss: 'cross-entropy',
  optimizer: { type: 'adam', learningRate: 0.01 },
  training: { epochs: 30, batchSize: 32, shuffle: true, seed: 42 },
  earlyStopping: { monitor: 'val_loss', mode: 'min', patience: 5, minDelta: 0.0001, restoreBest: true },
  checkpoints: { everyEpochs: 5, keepLast: 2, keepBest: true },
};

export function submitPage(): Page {
  return {
    render(root) {
      const editor = h('textarea', { id: 'spec-editor', rows: 28, cols: 80, spellcheck: 'false', 'aria-label': 'job spec (JSON)', 'aria-describedby': 'problems' });
      editor.value = JSON.stringify(EXAMPLE_SPEC, null, 2);
      const problems = h('div', { id: 'problems', 'aria-live': 'assertive' });
      const submit = h('button', { type: 'submit', id: 'submit-spec' }, 'Submit');
      const form = h('form', { class: 'submit-form' }, editor, h('div', { class: 'toolbar' }, submit, h('span', { class: 'muted small', id: 'idempotency' })), problems);
      root.append(h('h1', {}, 'Submit a job'), h('p', { class: 'muted' }, 'The spec as DESIGN.md defines it; every problem comes back with the JSON pointer of its field.'), form);

      let key = crypto.randomUUID();
      let keyText = editor.value;
      const idem = document.getElementById('idempotency')!;
      const showKey = () => { idem.textContent = `Idempotency-Key ${key}`; };
      showKey();
      editor.addEventListener('input', () => {
        if (editor.value !== keyText) { key = crypto.randomUUID(); keyText = editor.value; showKey(); }
      });

      const select = (pointer: string) => {
        const span = spanFor(locatePointers(editor.value), pointer);
        editor.focus();
        if (span) editor.setSelectionRange(span.start, span.end);
      };
      const showProblems = (title: string, details: ErrorDetail[]) => {
        replace(problems, h('div', { class: 'error', role: 'alert' },
          h('p', {}, title),
          details.length ? h('ul', { class: 'problems' }, details.map((d) => h('li', { 'data-pointer': d.pointer },
            h('button', { type: 'button', class: 'pointer mono', onclick: () => select(d.pointer), title: 'select this field in the editor' }, d.pointer || '/'),
            ' ', h('span', {}, d.message)))) : null));
      };

      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        let spec: unknown;
        try {
          spec = JSON.parse(editor.value);
        } catch (err) {
          showProblems(`The text is not JSON: ${(err as Error).message}`, []);
          return;
        }
        submit.disabled = true;
        try {
          const job = await api.submitJob(spec, key);
          key = crypto.randomUUID();
          navigate(`/jobs/${job.id}`);
        } catch (err) {
          reportError(err);
          if (err instanceof ApiRequestError) showProblems(err.message, err.details);
          else showProblems(`${(err as Error).message} — press Submit again to retry with the same Idempotency-Key`, []);
        } finally {
          submit.disabled = false;
        }
      });
    },
  };
}
