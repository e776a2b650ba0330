import type { Database } from '@jamey/data';

/** A lease held by one telemetry replica at a time. */
export interface Lease {
  /** Takes or renews the lease until `now + ttlMs`; resolves true when this holder has it. */
  acquire(now: number, signal?: AbortSignal): Promise<boolean>;
}

/**
 * A lease in `telemetry_leases`: the replica holding `name` evaluates alerts and writes history,
 * so two replicas never raise the same alert twice or flap it between their views. A holder that
 * stops renewing loses it `ttlMs` later.
 */
export function createPgLease(db: Pick<Database, 'query'>, name: string, holder: string, ttlMs: number): Lease {
  return {
    async acquire(now, signal) {
      const { rows } = await db.query<{ holder: string }>(
        `INSERT INTO telemetry_leases (name, holder, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
         WHERE telemetry_leases.holder = EXCLUDED.holder OR telemetry_leases.expires_at <= $4
         RETURNING holder`,
        [name, holder, new Date(now + ttlMs).toISOString(), new Date(now).toISOString()],
        signal,
      );
      return rows[0]?.holder === holder;
    },
  };
}
