/**
 * Training state on disk: `<dir>/latest/` (manifest.json + weights.bin in the project's weights
 * format) holds G, G_ema, D and both Adam states; the manifest's provenance holds the iteration and
 * hyper-parameters. Written to `latest.tmp/` and renamed, the previous one kept as `previous/`.
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { readWeightsDir, writeWeightsDir } from '../weights-fs.js';
import type { GanHyper, GanTrainer } from './gan-trainer.js';
import type { WeightsManifest } from '../../core/weights/manifest.js';

export interface CheckpointInfo {
  iteration: number;
  hyper: GanHyper;
  /** Total training wall time so far, seconds. */
  trainSeconds: number;
}

function latestCheckpointDir(dir: string): string {
  return path.join(dir, 'latest');
}

export function hasCheckpoint(dir: string): boolean {
  return existsSync(path.join(latestCheckpointDir(dir), 'manifest.json'));
}

export async function saveCheckpoint(
  dir: string,
  trainer: GanTrainer,
  info: CheckpointInfo,
  extra: Record<string, unknown> = {},
): Promise<WeightsManifest> {
  const tensors = await trainer.stateTensors();
  const tmp = path.join(dir, 'latest.tmp');
  rmSync(tmp, { recursive: true, force: true });
  const manifest = writeWeightsDir(
    tmp,
    {
      name: 'generator-checkpoint',
      kind: 'generator',
      architecture: { generator: trainer.G.arch, discriminator: trainer.D.arch, styleSize: trainer.G.styleSize },
      weightsFile: 'weights.bin',
      provenance: { ...info, savedAt: new Date().toISOString(), ...extra },
      metrics: {},
    },
    tensors,
  );
  const latest = latestCheckpointDir(dir);
  const previous = path.join(dir, 'previous');
  if (existsSync(latest)) {
    rmSync(previous, { recursive: true, force: true });
    renameSync(latest, previous);
  }
  renameSync(tmp, latest);
  return manifest;
}

/** Reads the latest checkpoint's info and tensors. */
export function readCheckpoint(dir: string) {
  const loaded = readWeightsDir(latestCheckpointDir(dir));
  const prov = loaded.manifest.provenance as unknown as CheckpointInfo;
  if (typeof prov.iteration !== 'number' || typeof prov.hyper !== 'object') {
    throw new Error(`${loaded.dir}: not a generator training checkpoint`);
  }
  return { ...loaded, info: prov };
}
