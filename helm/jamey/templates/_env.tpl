{{/*
The plain environment of one service (ConfigMap data): exactly the variables its
apps/<service>/src/config.ts reads. Input: dict "root" $ "s" <service>.
*/}}
{{- define "jamey.env" -}}
{{- $root := .root -}}
{{- $s := .s -}}
{{- $p := $s.env_prefix -}}
{{- $cfg := $s.config -}}
JAMEY_BIND_HOST: "0.0.0.0"
LOG_LEVEL: {{ $s.logLevel | quote }}
SHUTDOWN_GRACE_MS: {{ int $s.shutdownGraceMs | quote }}
JAMEY_HEAP_PERCENT: {{ int $s.heapPercent | quote }}
{{ $p }}_PORT: {{ int $s.graph.ports.main | quote }}
{{ $p }}_ADMIN_PORT: {{ int $s.graph.ports.admin | quote }}
{{- if $s.graph.database }}
{{ $p }}_DATABASE_POOL_SIZE: {{ int $root.Values.infrastructure.postgres.poolSize | quote }}
{{- end }}
{{- if $s.graph.kafka }}
KAFKA_BROKERS: {{ include "jamey.kafkaBrokers" $root | quote }}
{{- end }}
{{- range $down := $s.graph.downstreams }}
{{ upper $down }}_ADDRESS: {{ include "jamey.address" (dict "root" $root "name" $down) | quote }}
{{- end }}
{{- if $s.graph.downstreams }}
{{- /* Exactly one layer retries: the mesh when Istio is on, the application otherwise (docs/resilience.md). */}}
JAMEY_RPC_RETRIES: {{ ternary "false" "true" (and $root.Values.istio.enabled (ne $root.Values.progressiveDelivery.mode "flagger")) | quote }}
{{- end }}
{{- if eq $s.name "gateway" }}
GATEWAY_DOWNSTREAM_TIMEOUT_MS: {{ int $cfg.downstreamTimeoutMs | quote }}
GATEWAY_READINESS_TIMEOUT_MS: {{ int $cfg.readinessTimeoutMs | quote }}
GATEWAY_BODY_LIMIT_BYTES: {{ int $cfg.bodyLimitBytes | quote }}
JAMEY_RATE_LIMIT_MAX: {{ int $cfg.rateLimit.max | quote }}
JAMEY_RATE_LIMIT_WINDOW_MS: {{ int $cfg.rateLimit.windowMs | quote }}
{{- /* GET /status redirects here: a URL the browser can open (values.yaml statusPage.url). */}}
TELEMETRY_STATUS_URL: {{ include "jamey.statusPageUrl" $root | quote }}
{{- with $root.Values.userAuth }}
{{- if and .jwksUrl .keyFileSecret }}
{{- fail "userAuth: set jwksUrl or keyFileSecret, not both" }}
{{- end }}
{{- with .issuer }}
GATEWAY_AUTH_ISSUER: {{ . | quote }}
{{- end }}
GATEWAY_AUTH_AUDIENCE: {{ .audience | quote }}
{{- with .jwksUrl }}
GATEWAY_AUTH_JWKS_URL: {{ . | quote }}
{{- end }}
{{- with .keyAlgorithm }}
GATEWAY_AUTH_KEY_ALGORITHM: {{ . | quote }}
{{- end }}
GATEWAY_AUTH_CLOCK_TOLERANCE_SEC: {{ int .clockToleranceSec | quote }}
GATEWAY_AUTH_MAX_TOKEN_BYTES: {{ int .maxTokenBytes | quote }}
{{- with .corsOrigins }}
GATEWAY_CORS_ORIGINS: {{ join "," . | quote }}
{{- end }}
GATEWAY_TRUST_PROXY: {{ .trustProxy | default (ternary "127.0.0.0/8,::1" "false" $root.Values.istio.enabled) | quote }}
{{- end }}
{{- else if eq $s.name "consciousness" }}
CONSCIOUSNESS_DEPENDENCY_BUDGET_MS: {{ int $cfg.dependencyBudgetMs | quote }}
{{- if gt (int $cfg.phiIntervalMs) 0 }}
CONSCIOUSNESS_PHI_INTERVAL_MS: {{ int $cfg.phiIntervalMs | quote }}
{{- end }}
{{- else if eq $s.name "audit" }}
AUDIT_CONSUMER_GROUP: {{ $cfg.consumerGroup | quote }}
{{- with $cfg.replayFrom }}
AUDIT_REPLAY_FROM: {{ . | quote }}
{{- end }}
AUDIT_LOG_ORIGIN: {{ $cfg.logOrigin | quote }}
{{- if gt (int $cfg.retentionDays) 0 }}
AUDIT_RETENTION_DAYS: {{ int $cfg.retentionDays | quote }}
{{- end }}
{{- else if eq $s.name "telemetry" }}
{{- /* Telemetry polls the health of every service it watches (call-graph.json healthChecks). */}}
{{- $graph := include "jamey.graph" $root | fromJson }}
{{- range $check := $graph.healthChecks }}
{{- if and (eq $check.from "telemetry") (ne $check.to "gateway") }}
{{ upper $check.to }}_ADDRESS: {{ include "jamey.address" (dict "root" $root "name" $check.to) | quote }}
{{- /* …and scrapes its /metrics on the admin port. */}}
{{ upper $check.to }}_ADMIN_URL: {{ printf "http://%s:%d" (include "jamey.host" (dict "root" $root "name" $check.to)) (int (get $graph.services $check.to).ports.admin) | quote }}
{{- end }}
{{- end }}
GATEWAY_ADMIN_URL: {{ printf "http://%s:%d" (include "jamey.host" (dict "root" $root "name" "gateway")) (int $graph.services.gateway.ports.admin) | quote }}
TELEMETRY_POLL_INTERVAL_MS: {{ int $cfg.pollIntervalMs | quote }}
TELEMETRY_CHECK_TIMEOUT_MS: {{ int $cfg.checkTimeoutMs | quote }}
TELEMETRY_HISTORY_RETENTION_MS: {{ int $cfg.historyRetentionMs | quote }}
TELEMETRY_STATUS_PORT: {{ int $s.graph.ports.status | quote }}
{{- with $cfg.alertWebhookUrl }}
TELEMETRY_ALERT_WEBHOOK_URL: {{ . | quote }}
{{- end }}
{{- end }}
{{- with $root.Values.infrastructure.tracing }}
{{- if .enabled }}
OTEL_SERVICE_NAME: {{ $s.name | quote }}
OTEL_EXPORTER_OTLP_ENDPOINT: {{ .otlpEndpoint | quote }}
OTEL_EXPORTER_OTLP_PROTOCOL: "grpc"
OTEL_TRACES_SAMPLER: "parentbased_traceidratio"
OTEL_TRACES_SAMPLER_ARG: {{ .samplerRatio | toString | quote }}
OTEL_PROPAGATORS: "tracecontext,baggage"
{{- end }}
{{- end }}
{{- range $key, $value := $s.env }}
{{ $key }}: {{ $value | toString | quote }}
{{- end }}
{{- end -}}
