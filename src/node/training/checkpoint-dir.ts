/**
 * A training run's state on disk: `<dir>/latest/` (manifest.json + weights.bin in the project's
 * weights format), written to `latest.tmp/` and renamed, the one before kept as `previous/`, so a
 * process killed mid-write leaves a whole checkpoint behind. Used by the generator and classifier
 * trainers.
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { HostTensor, ManifestInfo } from '../../core/weights/codec.js';
import type { WeightsManifest } from '../../core/weights/manifest.js';
import { writeWeightsDir } from '../weights-fs.js';

export function latestCheckpointDir(dir: string): string {
  return path.join(dir, 'latest');
}

export function hasCheckpoint(dir: string): boolean {
  return existsSync(path.join(latestCheckpointDir(dir), 'manifest.json'));
}

/** Writes `<dir>/latest` atomically, keeping the former one as `<dir>/previous`. */
export function writeCheckpoint(
  dir: string,
  info: ManifestInfo,
  tensors: ReadonlyArray<readonly [string, HostTensor]>,
): WeightsManifest {
  const tmp = path.join(dir, 'latest.tmp');
  rmSync(tmp, { recursive: true, force: true });
  const manifest = writeWeightsDir(tmp, info, tensors);
  const latest = latestCheckpointDir(dir);
  const previous = path.join(dir, 'previous');
  if (existsSync(latest)) {
    rmSync(previous, { recursive: true, force: true });
    renameSync(latest, previous);
  }
  renameSync(tmp, latest);
  return manifest;
}
