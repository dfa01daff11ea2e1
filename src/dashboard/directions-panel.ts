/**
 * The dashboard's "What the top dims do" panel (issue 14): two <faultlines-directions> widgets, the
 * classifier's global top dims (on samples of every class) and the selected class's, each with its
 * labels, effect sizes, p_true of the classifier and its reference reader, the change of each dim
 * the counterfactual edits show the classifier is specifically weak to, and frame strips. Their
 * rows fire `faultlines-select`, which the page already turns into the traversal slider.
 */

/** What main.ts's `widget` does: puts a widget in a slot; resolves when it is ready, failed or left. */
export type PlaceWidget = (
  slot: string,
  tag: string,
  attrs: Record<string, string>,
  signal: AbortSignal,
) => Promise<void>;

export async function directionsPanel(
  place: PlaceWidget,
  view: { classifier: string; cls: number },
  signal: AbortSignal,
): Promise<void> {
  await Promise.all([
    place('directions-slot', 'faultlines-directions', { classifier: view.classifier }, signal),
    place(
      'directions-class-slot',
      'faultlines-directions',
      { classifier: view.classifier, class: String(view.cls) },
      signal,
    ),
  ]);
}
