/**
 * Runners name themselves (by default hostname-pid), and the job board is public: what it shows of
 * a runner is a stable pseudonym, a hash of the name, so a reader can tell runners apart (which one
 * completed which shard) without learning host names. Nothing is authorised by name: leases are
 * held by their secret token (board-leases.ts).
 */
import { contentHash } from '../../core/hash.js';

export function runnerPseudonym(name: string): string;
export function runnerPseudonym(name: string | null): string | null;
export function runnerPseudonym(name: string | null): string | null {
  return name === null ? null : `runner-${contentHash({ runner: name }).slice(0, 10)}`;
}
