/** The public views of the board's records: a job with its URLs, and a lease as its runner sees it. */
import type { JobView, LeaseView } from '../../protocol/job.js';
import type { JobRecord, LeaseRecord } from '../jobs/board.js';

export function jobView(job: JobRecord): JobView {
  return { ...job, statusUrl: `/v1/jobs/${job.id}`, resultUrl: `/v1/jobs/${job.id}/result` };
}

/** A lease as runners see it: the job (with its spec) and the shard to compute. */
export function leaseView(l: LeaseRecord): LeaseView {
  return { ...jobView(l.job), shard: l.shard };
}
