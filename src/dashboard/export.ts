/**
 * Per-panel export: a PNG of what the panel draws, and a widget snippet that puts the same panel on
 * another page. Each panel's tool bar is a `<div class="tools" data-panel=… data-png=… data-slot=…>`
 * in the page (src/worker/routes/dashboard.ts); this module fills it.
 *
 * - `data-png="charts"`: the panel's charts (canvases, also inside the widgets' shadow roots), laid
 *   out as on screen, on white, at the screen's pixel ratio.
 * - `data-png="traversals"`: a figure of the panel's traversal table (`table.png-figure` rows, or
 *   the figure-5 rows): each row's label, its strip image at its own pixel size (not resampled) and
 *   the numbers under its frames.
 * - `data-slot`: the widget in that slot, with its current attributes, as a snippet (the widgets
 *   module and the element; and the equivalent iframe of /embed/), with a Copy button.
 */

const WIDGET_ATTRS: Record<string, string[]> = {
  'faultlines-ranking': ['classifier', 'top', 'thumb-class'],
  'faultlines-traversal': ['classifier', 'class', 'dim', 'seed', 'range'],
  'faultlines-corner-cases': ['classifier', 'class'],
  'faultlines-accuracy-curve': ['classifier', 'compare'],
};

/** The snippet for the widget `el` as it is now: the module and the element, then the iframe equivalent. */
function widgetSnippet(el: Element, origin: string): string {
  const tag = el.tagName.toLowerCase();
  const attrs = (WIDGET_ATTRS[tag] ?? []).flatMap((a) => {
    const v = el.getAttribute(a);
    return v === null || v === '' ? [] : [[a, v] as const];
  });
  const q = (v: string) => v.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
  const element = `<${tag} api="${origin}"${attrs.map(([a, v]) => ` ${a}="${q(v)}"`).join('')}></${tag}>`;
  const embed = `${origin}/embed/${tag.replace(/^faultlines-/, '')}?${new URLSearchParams(attrs.map(([a, v]) => [a, v]))}`;
  return (
    `<script type="module" src="${origin}/widgets/v1/faultlines-widgets.js"></script>\n${element}\n<!-- or, where scripts are not allowed: ` +
    `-->\n<iframe src="${q(embed)}" width="720" height="420" title="Faultlines ${tag.replace(/^faultlines-/, '').replace(/-/g, ' ')}"></iframe>`
  );
}

function download(canvas: HTMLCanvasElement, name: string): Promise<void> {
  return new Promise((resolve, reject) =>
    canvas.toBlob((blob) => {
      if (!blob) {
        reject(new Error('the browser could not encode the PNG'));
        return;
      }
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = name;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
      resolve();
    }, 'image/png'),
  );
}

/** Canvases under `root`, also inside open shadow roots (the widgets'). */
function canvasesIn(root: Element): HTMLCanvasElement[] {
  const out: HTMLCanvasElement[] = [];
  const walk = (n: Element | ShadowRoot) => {
    for (const el of Array.from(n.children)) {
      if (el instanceof HTMLCanvasElement) out.push(el);
      if (el.shadowRoot) walk(el.shadowRoot);
      walk(el);
    }
  };
  walk(root);
  return out.filter((c) => c.width > 0 && c.height > 0);
}

/** The panel's charts as one image, each canvas at its place on screen, on white. */
function chartsCanvas(panel: Element): HTMLCanvasElement {
  const cs = canvasesIn(panel);
  if (cs.length === 0) throw new Error('this panel has no chart drawn yet');
  const boxes = cs.map((c) => c.getBoundingClientRect());
  const left = Math.min(...boxes.map((b) => b.left));
  const top = Math.min(...boxes.map((b) => b.top));
  // The canvases' own pixels per CSS pixel (Chart.js draws at devicePixelRatio).
  const r = cs[0].width / boxes[0].width;
  const out = document.createElement('canvas');
  out.width = Math.round((Math.max(...boxes.map((b) => b.right)) - left) * r);
  out.height = Math.round((Math.max(...boxes.map((b) => b.bottom)) - top) * r);
  const g = out.getContext('2d')!;
  g.fillStyle = '#fff';
  g.fillRect(0, 0, out.width, out.height);
  cs.forEach((c, i) =>
    g.drawImage(c, Math.round((boxes[i].left - left) * r), Math.round((boxes[i].top - top) * r), c.width, c.height),
  );
  return out;
}

interface FigureRow {
  /** Lines of the row's label. */
  label: string[];
  image: HTMLImageElement | null;
  numbers: string[];
}

/** The rows of a traversal figure in `panel`: a `table.png-figure`, else the figure-5 rows. */
function figureRows(panel: Element): { rows: FigureRow[]; cell: number } {
  const table = panel.querySelector('table.png-figure');
  if (table) {
    const rows: FigureRow[] = [];
    const head = Array.from(table.querySelectorAll('thead th')).slice(1);
    rows.push({ label: ['shift (std)'], image: null, numbers: head.map((h) => h.textContent ?? '') });
    for (const tr of Array.from(table.querySelectorAll('tbody tr'))) {
      const label = [tr.querySelector('th')?.textContent ?? ''];
      const img = tr.querySelector('img');
      rows.push({
        label,
        image: img,
        numbers: img
          ? []
          : Array.from(tr.querySelectorAll('td')).map((td) => (td.textContent ?? '').replace('→', ' →')),
      });
    }
    return { rows, cell: 66 };
  }
  const header = panel.querySelector('#fig5 .row:not([data-dim])');
  const progress: FigureRow[] = header
    ? [
        {
          label: ['× decision shift'],
          image: null,
          numbers: Array.from(header.querySelectorAll('.p span')).map((s) => s.textContent ?? ''),
        },
      ]
    : [];
  const dims = Array.from(panel.querySelectorAll<HTMLElement>('#fig5 .row[data-dim]')).map((row) => ({
    // biome-ignore lint/performance/useDomNodeTextContent: innerText keeps the label's line breaks (dim and direction / layer:channel / outcome).
    label: (row.querySelector<HTMLElement>('.dim')?.innerText ?? '')
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean),
    image: row.querySelector('img'),
    numbers: Array.from(row.querySelectorAll('.p span')).map((s) => s.textContent ?? ''),
  }));
  return { rows: [...progress, ...dims], cell: 66 };
}

/**
 * A traversal figure: a title (the panel's heading and what it shows), then per row its label, its
 * strip (its own pixels) and the numbers under its frames.
 */
function traversalCanvas(panel: Element): HTMLCanvasElement {
  const { rows, cell } = figureRows(panel);
  const drawn = rows.filter((r) => r.image?.complete || r.numbers.length > 0);
  if (!drawn.some((r) => r.image)) throw new Error('no traversal drawn yet');
  const what = panel.querySelector('#sbs-heading')?.textContent ?? document.getElementById('selection')?.textContent;
  const title = `${panel.querySelector('h2')?.textContent ?? 'Traversals'}${what ? `: ${what}` : ''}`;
  const LABEL = 230;
  const LINE = 16;
  const TITLE = 24;
  const heightOf = (r: FigureRow) =>
    Math.max(r.label.length * LINE, (r.image ? r.image.naturalHeight + 4 : 0) + (r.numbers.length ? LINE * 2 : 0));
  const width = Math.max(
    LABEL + Math.max(...drawn.map((r) => Math.max(r.image?.naturalWidth ?? 0, r.numbers.length * cell))) + 8,
    title.length * 8,
  );
  const out = document.createElement('canvas');
  out.width = width;
  out.height = TITLE + drawn.reduce((h, r) => h + heightOf(r), 0) + 8;
  const g = out.getContext('2d')!;
  g.fillStyle = '#fff';
  g.fillRect(0, 0, out.width, out.height);
  g.textBaseline = 'top';
  g.fillStyle = '#1d2433';
  g.font = 'bold 13px system-ui, sans-serif';
  g.fillText(title, 4, 4);
  g.font = '12px ui-monospace, Menlo, monospace';
  let y = TITLE;
  for (const r of drawn) {
    g.fillStyle = '#1d2433';
    r.label.forEach((line, i) => g.fillText(line.slice(0, 30), 4, y + 2 + i * LINE));
    let dy = 0;
    if (r.image) {
      g.drawImage(r.image, LABEL, y);
      dy = r.image.naturalHeight + 4;
    }
    g.fillStyle = '#4a5263';
    r.numbers.forEach((n, i) => {
      const [a, b] = n.split(' →');
      g.textAlign = 'center';
      g.fillText(a.trim(), LABEL + i * cell + cell / 2, y + dy);
      if (b) g.fillText(`→${b}`, LABEL + i * cell + cell / 2, y + dy + LINE);
      g.textAlign = 'left';
    });
    y += heightOf(r);
  }
  return out;
}

/** Fills every tool bar of the page (once). */
export function panelTools(origin: string, fileName: (panel: string) => string): void {
  for (const bar of Array.from(document.querySelectorAll<HTMLElement>('div.tools[data-panel]'))) {
    const panel = bar.closest('section')!;
    const name = bar.dataset.panel!;
    const status = document.createElement('span');
    status.className = 'muted tool-status';
    status.setAttribute('role', 'status');
    if (bar.dataset.png) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'tool png';
      b.textContent = 'Download PNG';
      b.addEventListener('click', () => {
        status.textContent = '';
        try {
          const canvas = bar.dataset.png === 'charts' ? chartsCanvas(panel) : traversalCanvas(panel);
          void download(canvas, fileName(name)).catch((e: Error) => {
            status.textContent = e.message;
          });
        } catch (e) {
          status.textContent = `No PNG: ${(e as Error).message}.`;
        }
      });
      bar.append(b);
    }
    if (bar.dataset.slot) {
      const slot = bar.dataset.slot;
      const d = document.createElement('details');
      d.className = 'snippet';
      d.innerHTML =
        '<summary>Embed this panel</summary><label>Widget snippet (current view)<textarea readonly rows="6" ' +
        'spellcheck="false"></textarea></label><button type="button" class="tool copy">Copy snippet</button>';
      const area = d.querySelector('textarea')!;
      const refresh = () => {
        const w = document.getElementById(slot)?.firstElementChild;
        area.value = w ? widgetSnippet(w, origin) : 'The panel has not loaded yet.';
      };
      d.addEventListener('toggle', () => d.open && refresh());
      d.querySelector('button.copy')!.addEventListener('click', async () => {
        refresh();
        try {
          await navigator.clipboard.writeText(area.value);
          status.textContent = 'Snippet copied.';
        } catch {
          // No clipboard permission: the text is selected for Ctrl+C.
          area.select();
          status.textContent = 'Select all and copy (Ctrl+C): the browser refused the clipboard.';
        }
      });
      bar.append(d);
    }
    bar.append(status);
  }
}
