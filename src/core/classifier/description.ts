/**
 * What a report says about a classifier it analysed: where it came from, its hashes, and for a
 * user's TF.js model its adapter and the adapter's sanity check — so a report describes the model
 * it is about, not only its name.
 */
import type { Adapter } from './adapter.js';
import type { AdapterSanityCheck } from './sanity-check.js';
import type { TfjsModelFormat } from './tfjs-model-json.js';

export type ClassifierDescription =
  | {
      source: 'built-in';
      /** The weights folder (relative to the repository's weights/). */
      weights: string;
      /** sha256 of the weights file (the built-in classifier's id). */
      weightsSha256: string;
      idIs: 'the weights sha256';
    }
  | {
      source: 'tfjs';
      /** The model folder and the adapter file as given. */
      path: string;
      adapterPath: string;
      format: TfjsModelFormat;
      /** sha256 of model.json followed by its weight shards in manifest order. */
      modelSha256: string;
      idIs: 'tfjsClassifierId: a hash of the model sha256 and the parsed adapter';
      inputShape: Array<number | null>;
      outputUnits: number;
      differentiable: boolean;
      nonDifferentiableOp: string | null;
      adapter: Adapter;
      /** The adapter on the domain's real test images; null when there are none for the generator's classes (`sanityCheckSkipped` says why). */
      sanityCheck: AdapterSanityCheck | null;
      sanityCheckSkipped?: string;
    };
