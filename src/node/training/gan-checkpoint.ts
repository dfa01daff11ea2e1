/**
 * The generator's training state on disk (checkpoint-dir.ts): `<dir>/latest/` holds G, G_ema, D and
 * both Adam states; the manifest's provenance holds the iteration and hyper-parameters.
 */
import { readWeightsDir } from '../weights-fs.js';
import type { GanHyper, GanTrainer } from './gan-trainer.js';
import type { WeightsManifest } from '../../core/weights/manifest.js';
import { hasCheckpoint, latestCheckpointDir, writeCheckpoint } from './checkpoint-dir.js';

export { hasCheckpoint };

export interface CheckpointInfo {
  iteration: number;
  hyper: GanHyper;
  /** Total training wall time so far, seconds. */
  trainSeconds: number;
}

export async function saveCheckpoint(
  dir: string,
  trainer: GanTrainer,
  info: CheckpointInfo,
  extra: Record<string, unknown> = {},
): Promise<WeightsManifest> {
  return writeCheckpoint(
    dir,
    {
      name: 'generator-checkpoint',
      kind: 'generator',
      architecture: { generator: trainer.G.arch, discriminator: trainer.D.arch, styleSize: trainer.G.styleSize },
      weightsFile: 'weights.bin',
      provenance: { ...info, savedAt: new Date().toISOString(), ...extra },
      metrics: {},
    },
    await trainer.stateTensors(),
  );
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
