/**
 * The counterfactual attribution's sentences, one wording for every surface (the CLI's summary
 * line, report.html, the <faultlines-directions> widget and the dashboard): plain functions of the
 * result's JSON shape, importing nothing, so the widgets' bundle takes no tfjs or zod with them.
 */

/** The fields of a counterfactual attribution (counterfactual-attribution.ts) the sentences read. */
export interface CounterfactualShape {
  edits: ReadonlyArray<{ label: string; ratio: number; ciLow: number; ciHigh: number }>;
  named: { label: string; ratio: number; runnerUp: string } | null;
}

/** The fields of a direction's weakness (counterfactual-attribution.ts `DirectionWeakness`). */
export interface WeaknessShape {
  edit: { label: string; ratio: number; ciLow: number; ciHigh: number } | null;
}

const x2 = (v: number) => `${v.toFixed(2)}x`;

/**
 * "classifier-clean breaks where the image adds noise at 0.58x the change classifier-corrupted needs
 * (1.72x [1.63, 1.86]; runner-up thickens strokes 1.37x)", or why none is named.
 */
export function counterfactualSentence(cf: CounterfactualShape, classifier: string, reference: string): string {
  const [top, second] = cf.edits;
  if (!top) return `counterfactual edits: none measured for ${classifier} against ${reference}`;
  if (!cf.named)
    return (
      `counterfactual edits: none named for ${classifier} against ${reference} (the largest, ${top.label} ` +
      `${x2(top.ratio)} [${top.ciLow.toFixed(2)}, ${top.ciHigh.toFixed(2)}], has an interval that reaches 1)`
    );
  return (
    `counterfactual edits: ${classifier} breaks where the image ${cf.named.label} at ` +
    `${(1 / cf.named.ratio).toFixed(2)}x the change ${reference} needs (${x2(cf.named.ratio)} ` +
    `[${top.ciLow.toFixed(2)}, ${top.ciHigh.toFixed(2)}]; runner-up ${cf.named.runnerUp}` +
    `${second ? ` ${x2(second.ratio)}` : ''})`
  );
}

/** A direction's weakness in a table cell: "moves down (1.22x)", or "none specific". */
export function weaknessText(w: WeaknessShape | undefined): string {
  return w?.edit ? `${w.edit.label} (${x2(w.edit.ratio)})` : 'none specific';
}
