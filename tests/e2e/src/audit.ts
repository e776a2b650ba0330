import { expect } from 'vitest';
import { waitFor } from '@jamey/data/testing';
import type { JameySystem } from './system.js';

/** Every audit record of `type` since `since` (ISO time), counted by subject, read page by page through the gateway. */
export async function auditCounts(system: JameySystem, type: string, since: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let pageToken = '';
  do {
    const query = new URLSearchParams({ type, startTime: since, pageSize: '500' });
    if (pageToken) query.set('pageToken', pageToken);
    const response = await fetch(`${system.gatewayUrl}/v1/audit/records?${query}`, { headers: { authorization: system.authorization }, signal: AbortSignal.timeout(15_000) });
    const page = (await response.json()) as { items?: { subject: string }[]; nextPageToken?: string };
    expect(response.status, JSON.stringify(page)).toBe(200);
    for (const record of page.items ?? []) counts.set(record.subject, (counts.get(record.subject) ?? 0) + 1);
    pageToken = page.nextPageToken ?? '';
  } while (pageToken);
  return counts;
}

/** Waits until audit holds an event of `type` for every subject in `subjects`, and returns the counts. */
export async function awaitAudit(
  system: JameySystem,
  type: string,
  subjects: readonly string[],
  since: string,
  timeoutMs = 60_000,
): Promise<Map<string, number>> {
  let counts = new Map<string, number>();
  await waitFor(
    async () => {
      counts = await auditCounts(system, type, since);
      return subjects.every((subject) => counts.has(subject));
    },
    { timeoutMs, intervalMs: 250, message: `audit to hold ${type} for all ${subjects.length} subjects` },
  );
  return counts;
}

/** Waits until audit holds exactly one event of `type` for each of `subjects`: none lost, none doubled. */
export async function expectAuditedOnce(system: JameySystem, type: string, subjects: readonly string[], since: string, timeoutMs = 60_000): Promise<void> {
  const counts = await awaitAudit(system, type, subjects, since, timeoutMs);
  for (const subject of subjects) expect(counts.get(subject), `${type} for ${subject}`).toBe(1);
}
