import type { Database } from '@jamey/data';
import type { CircuitBreaker } from '@jamey/resilience';

/**
 * Puts a circuit breaker in front of a database's queries and transactions. When Postgres is
 * unreachable the breaker opens after its threshold, and calls then fail at once with
 * DEPENDENCY_UNAVAILABLE naming `postgres` and a retry time, instead of each waiting for a
 * connection to time out. SQL errors such as constraint violations are answers, not outages,
 * and do not count against it. `ping` bypasses the breaker, so readiness always reports the
 * real state.
 */
export function guardDatabase(db: Database, breaker: CircuitBreaker): Database {
  return {
    get kind() {
      return db.kind;
    },
    query: (sql, params, signal) => breaker.execute(() => db.query(sql, params, signal), signal),
    transaction: (fn, signal) => breaker.execute(() => db.transaction(fn, signal), signal),
    ping: (signal) => db.ping(signal),
    close: () => db.close(),
    poolStats: () => db.poolStats(),
  };
}
