/** Types of the independent verifier, for tests that call it in-process. */
export class VerificationError extends Error {}
export function parseKey(text: string): { name: string; id: Buffer; key: import('node:crypto').KeyObject };
export function verifyCheckpointNote(note: string, verifierKey: string): { origin: string; size: bigint; root: Buffer };
export function verifyInclusion(index: bigint, treeSize: bigint, leafHash: Buffer, proof: Buffer[], root: Buffer): void;
export function verifyConsistency(size1: bigint, size2: bigint, proof: Buffer[], root1: Buffer, root2: Buffer): void;
export interface InclusionProofJson {
  leafIndex: number;
  treeSize: number;
  /** Base64 of the entry's bytes. */
  entry: string;
  proof: string[];
}
export interface ConsistencyProofJson {
  fromSize: number;
  toSize: number;
  proof: string[];
}
export function verifyBundle(bundle: {
  key: string;
  checkpoint: string;
  inclusions?: InclusionProofJson[];
  previous?: string;
  consistency?: ConsistencyProofJson;
}): string[];
