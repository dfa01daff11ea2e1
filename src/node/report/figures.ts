/** The report's image grids (paper figures 5 and 7, and the joint corner cases) as PNG bytes. */
import { gridPng } from '../../core/image/png.js';
import type { AnalysisReport } from '../../core/analysis/report.js';

/** The generator's image shape: the tiles' side and channels (grey MNIST's by default). */
export interface FigureShape {
  size: number;
  /** Grey or RGB: what the PNG encoder draws. */
  channels: 1 | 3;
}
const GREY: FigureShape = { size: 32, channels: 1 };
const blank = (s: FigureShape) => new Float32Array(s.size * s.size * s.channels);

/** Figure 5: one column per top dim, one row per fraction of its frame base (the decision shift when the decision flips). */
export function traversalGrid(report: AnalysisReport, shape: FigureShape = GREY, scale = 2): Uint8Array {
  const cols = report.traversals.length;
  const rows = report.traversals[0]?.frames.length ?? 0;
  const tiles: Float32Array[] = [];
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) tiles.push(report.traversals[c].frames[r].image ?? blank(shape));
  return gridPng(tiles, { size: shape.size, channels: shape.channels, columns: Math.max(1, cols), scale });
}

/** Figure 7: one row per class: the class-average image, then its decision corner cases (blank if fewer). */
export function cornerCaseGrid(report: AnalysisReport, shape: FigureShape = GREY, scale = 2): Uint8Array {
  const perRow = 1 + report.options.cornerCasesPerClass;
  const tiles: Float32Array[] = [];
  for (const entry of report.cornerCases.classes) {
    tiles.push(entry.start.image ?? blank(shape));
    for (let i = 0; i < perRow - 1; i++) tiles.push(entry.cases[i]?.decision.image ?? blank(shape));
  }
  return gridPng(tiles, { size: shape.size, channels: shape.channels, columns: perRow, scale });
}

/** One row per class: the class-average image and the joint corner case. */
export function jointGrid(report: AnalysisReport, shape: FigureShape = GREY, scale = 2): Uint8Array {
  const tiles: Float32Array[] = [];
  report.joint.forEach((j, i) => {
    tiles.push(report.cornerCases.classes[i]?.start.image ?? blank(shape));
    tiles.push(j.image ?? blank(shape));
  });
  return gridPng(tiles, { size: shape.size, channels: shape.channels, columns: 2, scale });
}

/** JSON of the report without pixel arrays (they live in the PNGs), typed arrays as plain arrays. */
export function reportJson(report: AnalysisReport): string {
  return JSON.stringify(
    report,
    (key, value: unknown) => {
      if (key === 'image') return undefined;
      if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number>);
      if (typeof value === 'number' && !Number.isFinite(value)) return null;
      return value;
    },
    1,
  );
}
