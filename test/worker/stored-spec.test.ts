/**
 * A job's stored spec is parsed by the protocol's JobSpecSchema when the board reads it back
 * (src/worker/jobs/board-rows.ts `storedSpec`): a well-formed one comes back whole, the fields of
 * every job kind included; a corrupt one, or one with a field the protocol does not know, is refused
 * naming the job and the offending field.
 */
import { describe, expect, it } from 'vitest';
import { storedSpec } from '../../src/worker/jobs/board-rows.js';

const spec = {
  classifier: 'classifier-clean',
  seed: 0,
  count: 100,
  generatorId: 'g'.repeat(64),
  classifierId: 'c'.repeat(64),
  options: { top: 8 },
  featureExtractorId: 'f'.repeat(64),
};

describe('storedSpec', () => {
  it('returns a well-formed spec whole, fields of other job kinds included', () => {
    expect(storedSpec({ id: 'j1', spec: JSON.stringify(spec) })).toEqual(spec);
  });

  it('refuses a spec that is not JSON, naming the job', () => {
    expect(() => storedSpec({ id: 'j2', spec: '{"classifier":' })).toThrow(/^job j2: its stored spec is not JSON/);
  });

  it('refuses a spec of the wrong shape, naming the job and the field', () => {
    expect(() => storedSpec({ id: 'j3', spec: JSON.stringify({ ...spec, seed: 'zero' }) })).toThrow(
      /^job j3: its stored spec is corrupt: spec\.seed: /,
    );
    const { classifierId: _, ...missing } = spec;
    expect(() => storedSpec({ id: 'j4', spec: JSON.stringify(missing) })).toThrow(/spec\.classifierId/);
    expect(() => storedSpec({ id: 'j5', spec: 'null' })).toThrow(/^job j5: its stored spec is corrupt: spec: /);
    // The schema is strict: a field no job kind has is a corrupt spec, not something to pass on.
    expect(() => storedSpec({ id: 'j6', spec: JSON.stringify({ ...spec, shardz: 3 }) })).toThrow(
      /^job j6: its stored spec is corrupt: spec: .*shardz/,
    );
  });
});
