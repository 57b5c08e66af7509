/**
 * The broadcast worker: posts one message to one slice of a large room, handed to it by
 * `sendmessage` through an asynchronous invocation (`../broadcast/fanout.ts` has the design). It claims its
 * slice first, so a second delivery of the same event by Lambda's queue posts nothing.
 */
import { ObjectExistsError } from "../../dal/errors";
import type { Repository } from "../../dal/repository";
import {
  type BroadcastJob,
  FANOUT_CLAIM_PREFIX,
  FANOUT_CLAIM_TTL_SECONDS,
  type FanoutClaim,
} from "../broadcast/fanout";
import { type BroadcastDependencies, type BroadcastOutcome, broadcastToRoom } from "../broadcast/room-broadcast";
import { ROOM_SHARDS, roomKey } from "../chat/room";

/** Members per Query: a short first page starts the posting soon, the next ones are read meanwhile. */
const WORKER_PAGE_SIZE = 200;

interface BroadcastWorkerDependencies extends BroadcastDependencies {
  claims: Repository<FanoutClaim>;
}

/** A worker's answer (nobody waits for it: Lambda logs it, tests read it). */
type BroadcastWorkerResult = (BroadcastOutcome & { duplicate: false }) | { duplicate: true };

export function createBroadcastWorkerHandler(
  deps: BroadcastWorkerDependencies,
): (job: BroadcastJob) => Promise<BroadcastWorkerResult> {
  return async (job) => {
    checkJob(job);
    const label = `fan-out ${job.delivery} slice ${job.slice}`;
    // The claim and the first page of the slice at once: both are round trips.
    const claimed = deps.claims.put(
      {
        roomKey: `${FANOUT_CLAIM_PREFIX}${roomKey(job.address)}`,
        id: `${job.delivery}#${job.slice}`,
        expiresAt: Math.floor(deps.now() / 1000) + FANOUT_CLAIM_TTL_SECONDS,
      },
      { overwrite: false },
    );
    const manager = deps.managementApi(deps.config.managementEndpoint ?? job.endpoint);
    const started = deps.now();
    let outcome: BroadcastOutcome;
    try {
      outcome = await broadcastToRoom(deps, manager, job.address, job.frame, {
        label,
        part: { shards: [job.shard], range: job.range, pageSize: WORKER_PAGE_SIZE },
        postAfter: claimed,
      });
    } catch (error) {
      if (!(error instanceof ObjectExistsError)) throw error;
      deps.logger.warn(`${label}: delivered before (a second copy of the event), not posted again`);
      return { duplicate: true };
    }
    deps.metrics?.record("worker", outcome, deps.now() - started);
    return { ...outcome, duplicate: false };
  };
}

/** Throws a clear error for an event that is not a job `sendmessage` would send. */
function checkJob(job: BroadcastJob): void {
  const fine =
    typeof job === "object" &&
    job !== null &&
    typeof job.endpoint === "string" &&
    typeof job.address?.apiId === "string" &&
    typeof job.address.stage === "string" &&
    typeof job.address.room === "string" &&
    typeof job.frame?.room === "string" &&
    typeof job.delivery === "string" &&
    Number.isInteger(job.shard) &&
    job.shard >= 0 &&
    job.shard < ROOM_SHARDS &&
    typeof job.range === "object" &&
    job.range !== null &&
    typeof job.slice === "string";
  if (!fine) throw new TypeError(`not a broadcast job: ${JSON.stringify(job)?.slice(0, 200)}`);
}
