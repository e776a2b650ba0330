#!/usr/bin/env bash
# Runs the six services as separate processes on the real infrastructure (scripts/infra.sh),
# with the keys that mode requires, created once under .data/local-keys/ (mode 0700):
#   - every service's Ed25519 service-token key and the shared JWKS (npm run service-key);
#   - audit's Ed25519 tree-head key;
#   - an ES256 key pair standing in for the identity provider: the gateway trusts its public
#     half (GATEWAY_AUTH_KEY_FILE), and `token` signs user tokens with the private half.
#
#   bash scripts/run-services.sh                       # start all six, Ctrl+C stops them
#   bash scripts/run-services.sh token memory:read,memory:write [subject]
#
# Needs `npm run build` and `bash scripts/infra.sh up` first. Development keys are refused
# outside embedded mode, so this mode has keys of its own.
set -euo pipefail
cd "$(dirname "$0")/.."

KEYS=.data/local-keys
ISSUER=urn:jamey:local
AUDIENCE=jamey-api
KEY_ID=local
SERVICES=(audit memory soul consciousness telemetry gateway)

die() { printf 'run-services: %s\n' "$*" >&2; exit 1; }

ensure_keys() {
  mkdir -p "$KEYS" && chmod 700 "$KEYS"
  local svc
  for svc in "${SERVICES[@]}"; do
    [[ -f "$KEYS/$svc.$KEY_ID.private.jwk" ]] ||
      node libs/security/dist/cli/service-key.js --service "$svc" --key-id "$KEY_ID" --out "$KEYS" --jwks "$KEYS/service-keys.jwks" >/dev/null
  done
  [[ -f "$KEYS/audit-signing-key.pem" ]] || (umask 077 && openssl genpkey -algorithm ed25519 -out "$KEYS/audit-signing-key.pem")
  if [[ ! -f "$KEYS/user-token.key.pem" ]]; then
    (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$KEYS/user-token.key.pem")
    openssl pkey -in "$KEYS/user-token.key.pem" -pubout -out "$KEYS/user-token.pub.pem"
  fi
}

# Prints a user token signed with the local identity provider key.
mint_token() {
  local scopes="${1:-}" subject="${2:-developer}"
  [[ -n "$scopes" ]] || die "usage: $0 token <scope,scope,...> [subject]"
  [[ -f "$KEYS/user-token.key.pem" ]] || die "no key yet: start the services once first"
  ISSUER="$ISSUER" AUDIENCE="$AUDIENCE" SCOPES="$scopes" SUBJECT="$subject" KEY="$KEYS/user-token.key.pem" \
    node --input-type=module -e '
      import { readFileSync } from "node:fs";
      import { createRequire } from "node:module";
      const jose = await import(createRequire(process.cwd() + "/libs/security/package.json").resolve("jose"));
      const key = await jose.importPKCS8(readFileSync(process.env.KEY, "utf8"), "ES256");
      const token = await new jose.SignJWT({ scope: process.env.SCOPES.split(",").join(" ") })
        .setProtectedHeader({ alg: "ES256", typ: "JWT" })
        .setIssuer(process.env.ISSUER).setAudience(process.env.AUDIENCE).setSubject(process.env.SUBJECT)
        .setIssuedAt().setExpirationTime("1h").sign(key);
      console.log(token);'
}

start_all() {
  [[ -f apps/gateway/dist/main.js ]] || die "build first: npm run build"
  [[ -n "${KAFKA_BROKERS:-}" ]] || die 'no infrastructure variables: run eval "$(bash scripts/infra.sh env)" first'
  ensure_keys
  local pids=() svc upper
  trap 'kill "${pids[@]}" 2>/dev/null; wait' INT TERM EXIT
  for svc in "${SERVICES[@]}"; do
    upper="$(tr '[:lower:]' '[:upper:]' <<<"$svc")"
    env JAMEY_SERVICE_SIGNING_KEY_FILE="$KEYS/$svc.$KEY_ID.private.jwk" \
        JAMEY_SERVICE_PUBLIC_KEYS_FILE="$KEYS/service-keys.jwks" \
        AUDIT_SIGNING_KEY_FILE="$KEYS/audit-signing-key.pem" \
        GATEWAY_AUTH_ISSUER="$ISSUER" GATEWAY_AUTH_AUDIENCE="$AUDIENCE" \
        GATEWAY_AUTH_KEY_FILE="$KEYS/user-token.pub.pem" GATEWAY_AUTH_KEY_ALGORITHM=ES256 \
        node --enable-source-maps --import @jamey/telemetry/register "apps/$svc/dist/main.js" &
    pids+=("$!")
    printf 'run-services: started %s (pid %s)\n' "$svc" "$!" >&2
  done
  printf 'run-services: a user token: TOKEN=$(bash %s token memory:read,memory:write)\n' "$0" >&2
  wait -n "${pids[@]}" || true
  die "a service exited; stopping the others"
}

case "${1:-start}" in
  start) start_all ;;
  token) shift; mint_token "$@" ;;
  *) die "usage: $0 [start] | token <scopes> [subject]" ;;
esac
