// The helm test (`helm test <release>`): the gateway is ready, and one gRPC health check passes.
// Runs in the gateway image, so it needs nothing the services do not already ship.
// Under an Istio sidecar the pod would never complete (the proxy keeps running), so it asks the
// proxy to exit through pilot-agent's /quitquitquit when JAMEY_SIDECAR_QUIT_URL is set.
import * as grpc from '@grpc/grpc-js';

const readyUrl = process.env.JAMEY_SMOKE_READY_URL;
const grpcTarget = process.env.JAMEY_SMOKE_GRPC_TARGET;
const quitUrl = process.env.JAMEY_SIDECAR_QUIT_URL;
const timeoutMs = Number(process.env.JAMEY_SMOKE_TIMEOUT_MS ?? 5000);

async function checkReady() {
  const response = await fetch(readyUrl, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new Error(`${readyUrl} answered ${response.status}`);
  console.log(`ok: ${readyUrl} ${response.status}`);
}

// grpc.health.v1.Health/Check with an empty HealthCheckRequest (service ""); the response is
// HealthCheckResponse, where field 1 (status) = 1 is SERVING: bytes 0x08 0x01.
function checkGrpcHealth() {
  const client = new grpc.Client(grpcTarget, grpc.credentials.createInsecure());
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      '/grpc.health.v1.Health/Check',
      () => Buffer.alloc(0),
      (bytes) => bytes,
      {},
      new grpc.Metadata(),
      { deadline: Date.now() + timeoutMs },
      (error, bytes) => {
        client.close();
        if (error) return reject(error);
        if (bytes[0] !== 0x08 || bytes[1] !== 0x01) return reject(new Error(`${grpcTarget} is not SERVING`));
        console.log(`ok: ${grpcTarget} grpc.health.v1 SERVING`);
        resolve();
      },
    );
  });
}

let failed = false;
try {
  await checkReady();
  await checkGrpcHealth();
} catch (error) {
  failed = true;
  console.error(`smoke test failed: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  if (quitUrl) await fetch(quitUrl, { method: 'POST' }).catch(() => undefined);
}
process.exit(failed ? 1 : 0);
