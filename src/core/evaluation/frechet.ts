/**
 * Fréchet distance between two Gaussians fitted to feature sets (the FID formula, in whatever
 * feature space the caller chose):
 * |mu1 - mu2|^2 + Tr(C1 + C2 - 2 (C1^1/2 C2 C1^1/2)^1/2).
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';

export interface FeatureMoments {
  count: number;
  mean: Float64Array;
  /** Sample covariance, row-major [d, d]. */
  covariance: Float64Array;
}

/** Mean and covariance of `count` feature rows of size d. */
export function featureMoments(features: Float32Array, count: number, d: number): FeatureMoments {
  if (count < 2) throw new Error('need at least 2 feature vectors');
  const mean = new Float64Array(d);
  for (let i = 0; i < count; i++) for (let j = 0; j < d; j++) mean[j] += features[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= count;
  const cov = new Float64Array(d * d);
  const row = new Float64Array(d);
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < d; j++) row[j] = features[i * d + j] - mean[j];
    for (let a = 0; a < d; a++) {
      const ra = row[a];
      if (ra === 0) continue;
      for (let b = a; b < d; b++) cov[a * d + b] += ra * row[b];
    }
  }
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      const v = cov[a * d + b] / (count - 1);
      cov[a * d + b] = v;
      cov[b * d + a] = v;
    }
  }
  return { count, mean, covariance: cov };
}

function toMatrix(v: Float64Array, d: number): Matrix {
  return new Matrix(Array.from({ length: d }, (_, i) => Array.from(v.subarray(i * d, (i + 1) * d))));
}

/** Symmetric PSD square root via the eigen-decomposition (negative round-off eigenvalues clipped). */
function sqrtPsd(m: Matrix): Matrix {
  const e = new EigenvalueDecomposition(m, { assumeSymmetric: true });
  const V = e.eigenvectorMatrix;
  const D = Matrix.diag(e.realEigenvalues.map((x) => Math.sqrt(Math.max(0, x))));
  return V.mmul(D).mmul(V.transpose());
}

/**
 * @example
 * const fd = frechetDistance(featureMoments(a, n, 128), featureMoments(b, m, 128));
 */
export function frechetDistance(p: FeatureMoments, q: FeatureMoments): number {
  const d = p.mean.length;
  if (q.mean.length !== d) throw new Error('feature dimensions differ');
  let meanTerm = 0;
  for (let j = 0; j < d; j++) meanTerm += (p.mean[j] - q.mean[j]) ** 2;
  const c1 = toMatrix(p.covariance, d);
  const c2 = toMatrix(q.covariance, d);
  const s1 = sqrtPsd(c1);
  const inner = s1.mmul(c2).mmul(s1);
  // Symmetrise against round-off before the symmetric eigen-solver.
  const sym = inner.add(inner.transpose()).div(2);
  const e = new EigenvalueDecomposition(sym, { assumeSymmetric: true });
  const traceSqrt = e.realEigenvalues.reduce((a, x) => a + Math.sqrt(Math.max(0, x)), 0);
  return meanTerm + c1.trace() + c2.trace() - 2 * traceSqrt;
}
