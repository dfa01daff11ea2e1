/**
 * The dashboard's "Explain a real image" panel (issue 20, docs/explain.md): choose a PNG and its
 * label (the selected classifier explains it), type the submitter token, and the page POSTs
 * /v1/explain, follows the job it answers with, and shows the explanation in a
 * <faultlines-explain> widget (which polls until a runner has computed it); or paste the key of an
 * explanation to show it. The token is read from the field when the form is sent and never kept:
 * not in the page source, the URL or storage.
 */
import { fileBase64 } from '../widgets/index.js';
import { esc } from './context.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const KEY = /^[0-9a-f]{64}$/;

/** Puts the widget for `key` in the panel (a fresh element, so an earlier one's polling stops). */
function show(api: string, key: string): void {
  const slot = $('explain-slot');
  slot.replaceChildren();
  const w = document.createElement('faultlines-explain');
  w.setAttribute('api', api);
  w.setAttribute('key', key);
  slot.append(w);
}

function say(html: string, error = false): void {
  const el = $('explain-status');
  el.className = error ? 'err' : 'muted';
  el.innerHTML = html;
}

/** Wires the panel's two forms; `selected()`: the page's classifier and (outside the default) domain. */
export function explainPanel(api: string, selected: () => { classifier: string; domain?: string }): void {
  const form = $<HTMLFormElement>('explain-form');
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const file = $<HTMLInputElement>('explain-file').files?.[0];
    const token = $<HTMLInputElement>('explain-token').value.trim();
    if (!file) return say('Choose a PNG first.', true);
    if (!token) return say('Type the submitter token (SUBMIT_TOKEN): submitting an explanation needs it.', true);
    const { classifier, domain } = selected();
    const body = {
      domain,
      image: await fileBase64(file),
      label: Number($<HTMLSelectElement>('explain-label').value),
      // Before the page has chosen a classifier: the catalog's default.
      classifier: classifier || undefined,
      steps: Number($<HTMLInputElement>('explain-steps').value),
    };
    const button = form.querySelector('button')!;
    button.disabled = true;
    say('Sending…');
    try {
      const res = await fetch(`${api}/v1/explain`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const r = (await res.json().catch(() => ({}))) as {
        key?: string;
        statusUrl?: string;
        title?: string;
        detail?: string;
        field?: string;
      };
      if (res.status === 200 || res.status === 202) {
        $<HTMLInputElement>('explain-key').value = r.key!;
        say(
          res.status === 200
            ? `Explained before (key <code>${esc(r.key!)}</code>): shown from the cache.`
            : `Queued as <a href="${esc(r.statusUrl!)}">a job</a> (key <code>` +
                `${esc(r.key!)}</code>); a runner computes it, and the explanation appears below when it is done.`,
        );
        show(api, r.key!);
      } else
        say(
          `${esc(r.title ?? `HTTP ${res.status}`)}: ${esc(r.detail ?? '')}${r.field ? ` (field <code>${esc(r.field)}</code>)` : ''}`,
          true,
        );
    } catch (e) {
      say(`The API did not answer: ${esc((e as Error).message)}`, true);
    } finally {
      button.disabled = false;
    }
  });
  $<HTMLFormElement>('explain-key-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const key = $<HTMLInputElement>('explain-key').value.trim();
    if (!KEY.test(key)) return say('A key is the 64 hex digits POST /v1/explain answered.', true);
    say(`Explanation <code>${esc(key)}</code>:`);
    show(api, key);
  });
}
