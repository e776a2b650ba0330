import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@jamey/data/testing';
import { expect } from 'vitest';
import { REPO_ROOT } from './processes.js';
import { callGateway } from './scenario.js';
import type { JameySystem } from './system.js';

const VERIFIER = join(REPO_ROOT, 'apps/audit/verifier/verify-audit.mjs');

async function get<T>(system: JameySystem, path: string): Promise<T> {
  const { status, body } = await callGateway(system, 'GET', `/v1/audit/log/${path}`);
  expect(status, `GET /v1/audit/log/${path}`).toBe(200);
  return body as unknown as T;
}

/** Runs the independent verifier CLI; resolves with its exit code and output. */
function verify(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [VERIFIER, ...args], { timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

interface Checkpoint {
  checkpoint: string;
  treeSize: number;
}

/** The latest signed tree head; treeSize 0 while none is signed yet (the route answers 404). */
async function latestHead(system: JameySystem): Promise<Checkpoint> {
  const { status, body } = await callGateway(system, 'GET', '/v1/audit/log/checkpoint');
  if (status === 404) return { checkpoint: '', treeSize: 0 };
  expect(status, 'GET /v1/audit/log/checkpoint').toBe(200);
  return body as unknown as Checkpoint;
}

/**
 * What docs/security.md tells an auditor to do, against the running system: take the verifier
 * key and a signed tree head from the gateway's `/v1/audit/log/*` routes, then check an
 * inclusion proof and a consistency proof with `verify-audit.mjs`, which shares no code with the
 * service. A forged entry and a forged proof are rejected.
 */
export async function runAuditVerification(system: JameySystem): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'jamey-audit-verify-'));
  const file = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };
  try {
    const { verifierKey } = await get<{ verifierKey: string }>(system, 'info');
    let old: Checkpoint | undefined;
    await waitFor(async () => (old = await latestHead(system)).treeSize >= 1, {
      timeoutMs: 30_000,
      intervalMs: 500,
      message: 'a signed tree head of at least one record',
    });
    const oldNote = file('old.note', old!.checkpoint);

    // Something new to log, and a newer head that covers it.
    const write = await callGateway(system, 'POST', '/v1/memories', { content: 'a memory to be audited and proven' });
    expect(write.status).toBe(201);
    let head: Checkpoint | undefined;
    await waitFor(async () => (head = await latestHead(system)).treeSize > old!.treeSize, {
      timeoutMs: 30_000,
      intervalMs: 500,
      message: 'a newer signed tree head',
    });
    const headNote = file('head.note', head!.checkpoint);
    const inclusion = await get<{ entry: string; proof: string[] }>(system, `inclusion-proof?sequence=${head!.treeSize}&treeSize=${head!.treeSize}`);
    const consistency = await get<{ proof: string[] }>(system, `consistency-proof?fromSize=${old!.treeSize}&toSize=${head!.treeSize}`);
    const inclusionFile = file('record.json', JSON.stringify(inclusion));
    const consistencyFile = file('consistency.json', JSON.stringify(consistency));

    const honest = await verify(['--key', verifierKey, '--checkpoint', headNote, '--inclusion', inclusionFile, '--previous', oldNote, '--consistency', consistencyFile]);
    expect(honest, honest.output).toMatchObject({ code: 0 });

    // One flipped byte of the logged entry: the inclusion proof no longer leads to the signed root.
    const entry = Buffer.from(inclusion.entry, 'base64');
    entry.writeUInt8(entry.readUInt8(entry.length - 1) ^ 0x01, entry.length - 1);
    const forgedEntry = file('forged-record.json', JSON.stringify({ ...inclusion, entry: entry.toString('base64') }));
    expect((await verify(['--key', verifierKey, '--checkpoint', headNote, '--inclusion', forgedEntry])).code).toBe(1);

    // A consistency proof with a node replaced: the old head is no longer a prefix of the new one.
    if (consistency.proof.length > 0) {
      const forgedProof = file('forged-consistency.json', JSON.stringify({ ...consistency, proof: [Buffer.alloc(32, 7).toString('base64'), ...consistency.proof.slice(1)] }));
      expect((await verify(['--key', verifierKey, '--checkpoint', headNote, '--previous', oldNote, '--consistency', forgedProof])).code).toBe(1);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
