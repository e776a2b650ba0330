import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHmac, createPrivateKey, sign } from 'node:crypto';
import { systemClock } from '@jamey/core';
import { memory as pb } from '@jamey/proto';
import { createServiceAuth, generateServiceKeyring, type ServiceAuth, type ServiceKeyring } from '@jamey/security';
import type { ServiceName } from '@jamey/topology';
import { checkHealth, createRpcClient, createRpcServer, type CallContext, type RefusalDetails, type RpcServer } from './index.js';
import { expectRpcError, listReflectedServices } from './testing.js';

const silent = { error: () => undefined };

// The gRPC attack suite: a real server on loopback with the service-token interceptor, called
// the way an attacker inside the network would.
describe('service tokens on gRPC calls', () => {
  let keyring: ServiceKeyring;
  let server: RpcServer;
  let address: string;
  let handled: CallContext[] = [];
  const refused: { method: string; error: unknown; details: RefusalDetails }[] = [];
  const auth = new Map<ServiceName, ServiceAuth>();

  const authOf = async (service: ServiceName, ring = keyring, clock = systemClock): Promise<ServiceAuth> => createServiceAuth(service, { keyring: ring }, { clock });
  const clientWith = (serviceToken?: (sub?: string) => Promise<string>) =>
    createRpcClient(pb.MemoryServiceService, { dependency: 'memory', address, clock: systemClock, ...(serviceToken ? { serviceToken } : {}) });
  const fetchOne = (client: ReturnType<typeof clientWith>, metadata?: Record<string, string>) =>
    client.getMemory({ id: 'm1' }, metadata ? { metadata } : {}).finally(() => client.close());

  beforeAll(async () => {
    keyring = await generateServiceKeyring();
    for (const service of ['memory', 'consciousness', 'soul', 'gateway'] as const) auth.set(service, await authOf(service));
    server = createRpcServer({
      logger: silent,
      authenticate: auth.get('memory')!.verifier!,
      onRefused: (method, error, details) => refused.push({ method, error, details }),
    });
    server.addService<pb.MemoryServiceServer>('jamey.memory.v1.MemoryService', pb.MemoryServiceService, {
      async storeMemory() {
        throw new Error('not used');
      },
      async getMemory(request, context) {
        handled.push(context);
        return { memory: { id: request.id, content: 'x', layer: 3, tags: [], importance: 0.5, createTime: new Date(0) } };
      },
      async searchMemories() {
        throw new Error('not used');
      },
      async deleteMemory() {
        throw new Error('not used');
      },
    });
    address = `127.0.0.1:${await server.listen('127.0.0.1', 0)}`;
    server.setServing(true);
  });

  afterAll(async () => {
    await server.shutdown(1000);
  });

  const refusedWith = async (code: 'UNAUTHENTICATED' | 'PERMISSION_DENIED', call: Promise<unknown>): Promise<void> => {
    handled = [];
    await expectRpcError(call, code);
    expect(handled).toEqual([]);
  };

  it('lets a caller on the allow-list through, and the handler sees the caller and the user', async () => {
    handled = [];
    const minter = auth.get('consciousness')!.minter;
    const client = clientWith((sub) => minter.mint('memory', sub));
    const response = await client.getMemory({ id: 'm1' }, { userSubject: 'user-42' });
    expect(response.memory?.id).toBe('m1');
    await client.getMemory({ id: 'm2' });
    client.close();
    expect(handled.map((c) => [c.caller, c.userSubject])).toEqual([
      ['consciousness', 'user-42'],
      ['consciousness', undefined],
    ]);
    // The token is removed before the handler: handlers cannot leak or replay it.
    expect(handled[0]!.metadata.get('x-jamey-service-token')).toEqual([]);
  });

  it('refuses a call without a token with UNAUTHENTICATED', async () => {
    const before = refused.length;
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await refusedWith('UNAUTHENTICATED', fetchOne(clientWith(), { traceparent }));
    expect(refused.slice(before).map((r) => r.method)).toEqual(['/jamey.memory.v1.MemoryService/GetMemory']);
    // What an audit record needs: where it came from, with what, in which trace; no caller.
    const { details, error } = refused.at(-1)!;
    expect(details.peer).toMatch(/^(127\.0\.0\.1|\[::1\]|\[::ffff:127\.0\.0\.1\]):\d+$/);
    expect(details.userAgent).toMatch(/grpc-node-js/);
    expect(details.traceparent).toBe(traceparent);
    expect(details.verifiedCaller).toBeUndefined();
    expect(error).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'missing' });
  });

  it('refuses a garbage token with UNAUTHENTICATED', async () => {
    await refusedWith('UNAUTHENTICATED', fetchOne(clientWith(() => Promise.resolve('not-a-token'))));
    await refusedWith('UNAUTHENTICATED', fetchOne(clientWith(() => Promise.resolve('a.b.c'))));
  });

  it('refuses a token meant for another service with UNAUTHENTICATED', async () => {
    const minter = auth.get('consciousness')!.minter;
    await refusedWith('UNAUTHENTICATED', fetchOne(clientWith(() => minter.mint('soul'))));
  });

  it('refuses an expired token with UNAUTHENTICATED', async () => {
    const past = { now: () => Date.now() - 10 * 60_000 };
    const minter = (await authOf('consciousness', keyring, past)).minter;
    await refusedWith('UNAUTHENTICATED', fetchOne(clientWith(() => minter.mint('memory'))));
  });

  it('refuses a token signed by a key the service does not trust with UNAUTHENTICATED', async () => {
    const stranger = await generateServiceKeyring(['consciousness'], 'k1');
    const minter = (await createServiceAuth('consciousness', { keyring: { ...keyring, privateJwks: { ...keyring.privateJwks, consciousness: stranger.privateJwks.consciousness } } })).minter;
    await refusedWith('UNAUTHENTICATED', fetchOne(clientWith(() => minter.mint('memory'))));
  });

  it('refuses a valid token from a service that may not call this one with PERMISSION_DENIED', async () => {
    const minter = auth.get('soul')!.minter;
    await refusedWith('PERMISSION_DENIED', fetchOne(clientWith(() => minter.mint('memory'))));
    // The verifier refuses caller_not_allowed only after the token verified, so the caller is known.
    expect(refused.at(-1)).toMatchObject({ error: { reason: 'caller_not_allowed' }, details: { verifiedCaller: 'soul' } });
  });

  it('names no caller for a token that did not verify, whatever its iss claims', async () => {
    const stranger = await generateServiceKeyring(['gateway'], 'k9');
    const forger = (await createServiceAuth('gateway', { keyring: { ...keyring, privateJwks: { ...keyring.privateJwks, gateway: stranger.privateJwks.gateway } } })).minter;
    await refusedWith('UNAUTHENTICATED', fetchOne(clientWith(() => forger.mint('memory'))));
    expect(refused.at(-1)!.details.verifiedCaller).toBeUndefined();
  });

  it('refuses a spoofed verified-caller header without a token, and ignores one sent beside a valid token', async () => {
    await refusedWith('UNAUTHENTICATED', fetchOne(clientWith(), { 'x-jamey-verified-caller': 'gateway' }));
    handled = [];
    const minter = auth.get('consciousness')!.minter;
    await fetchOne(clientWith((sub) => minter.mint('memory', sub)), { 'x-jamey-verified-caller': 'gateway', 'x-jamey-verified-user': 'admin' });
    expect(handled.map((c) => [c.caller, c.userSubject])).toEqual([['consciousness', undefined]]);
  });

  // The JWT attacks, crafted by hand from a genuine token of an allowed caller (consciousness):
  // each must be UNAUTHENTICATED before any handler runs, with the verifier's exact reason.
  describe('forged and mangled tokens', () => {
    const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
    const decode = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
    let genuine: string;
    let header: Record<string, unknown>;
    let claims: Record<string, unknown>;
    /** Signs header.claims with consciousness's real Ed25519 key. */
    const signed = (h: Record<string, unknown>, c: Record<string, unknown>) => {
      const input = `${b64(h)}.${b64(c)}`;
      const key = createPrivateKey({ key: keyring.privateJwks.consciousness as never, format: 'jwk' });
      return `${input}.${sign(null, Buffer.from(input), key).toString('base64url')}`;
    };
    const refusedFor = async (token: string, reason: string) => {
      await refusedWith('UNAUTHENTICATED', fetchOne(clientWith(() => Promise.resolve(token))));
      expect(refused.at(-1)?.error).toMatchObject({ code: 'UNAUTHENTICATED', reason });
    };

    beforeAll(async () => {
      genuine = await auth.get('consciousness')!.minter.mint('memory');
      const [h, c] = genuine.split('.');
      header = decode(h!);
      claims = decode(c!);
    });

    it('accepts the genuine token it starts from, and the same claims re-signed by hand', async () => {
      handled = [];
      await fetchOne(clientWith(() => Promise.resolve(genuine)));
      await fetchOne(clientWith(() => Promise.resolve(signed(header, claims))));
      expect(handled.map((c) => c.caller)).toEqual(['consciousness', 'consciousness']);
    });

    it('alg none', async () => {
      await refusedFor(`${b64({ ...header, alg: 'none' })}.${b64(claims)}.`, 'alg_not_allowed');
    });

    it('HS256 signed with the public key', async () => {
      const publicJwk = keyring.publicJwks.keys.find((k) => k.kid === header['kid'])!;
      const input = `${b64({ ...header, alg: 'HS256' })}.${b64(claims)}`;
      const mac = createHmac('sha256', JSON.stringify(publicJwk)).update(input).digest('base64url');
      await refusedFor(`${input}.${mac}`, 'alg_not_allowed');
    });

    it('nbf in the future', async () => {
      await refusedFor(signed(header, { ...claims, nbf: Math.floor(Date.now() / 1000) + 600 }), 'not_yet_valid');
    });

    it('a tampered payload (another caller, the signature kept)', async () => {
      const [h, , signature] = genuine.split('.');
      await refusedFor(`${h}.${b64({ ...claims, iss: 'gateway' })}.${signature}`, 'bad_signature');
    });

    it('a truncated token', async () => {
      await refusedFor(genuine.split('.').slice(0, 2).join('.'), 'malformed');
      await refusedFor(genuine.slice(0, -10), 'bad_signature');
    });

    it('an oversized token', async () => {
      await refusedFor(signed(header, { ...claims, pad: 'x'.repeat(10_000) }), 'too_large');
    });

    it('a key id the service does not know', async () => {
      await refusedFor(signed({ ...header, kid: 'consciousness/never-published' }, claims), 'unknown_kid');
    });
  });

  it('answers grpc.health.v1 without a token', async () => {
    expect((await checkHealth(address, 'jamey.memory.v1.MemoryService', 1000)).status).toBe('SERVING');
  });

  it('answers server reflection without a token', async () => {
    expect(await listReflectedServices(address)).toContain('jamey.memory.v1.MemoryService');
  });
});
