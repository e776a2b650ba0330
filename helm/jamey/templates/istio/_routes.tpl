{{/*
Route destinations of a service: weighted stable/canary. Input: dict "root" $ "s" <service>.
*/}}
{{- define "jamey.weighted" -}}
{{- $s := .s -}}
{{- $host := include "jamey.host" (dict "root" .root "name" $s.name) -}}
{{- if and (eq (include "jamey.mode" .root) "helm") $s.canary.enabled }}
- destination:
    host: {{ $host }}
    subset: stable
  weight: {{ sub 100 (int $s.canary.weight) }}
- destination:
    host: {{ $host }}
    subset: canary
  weight: {{ int $s.canary.weight }}
{{- else }}
- destination:
    host: {{ $host }}
    subset: stable
  weight: 100
{{- end }}
{{- end -}}

{{/* The x-jamey-canary: always destination: the canary when one runs, else stable. */}}
{{- define "jamey.canaryOnly" -}}
{{- $s := .s -}}
{{- $canary := and (eq (include "jamey.mode" .root) "helm") $s.canary.enabled -}}
- destination:
    host: {{ include "jamey.host" (dict "root" .root "name" $s.name) }}
    subset: {{ ternary "canary" "stable" $canary }}
  weight: 100
{{- end -}}

{{/*
Retries and timeouts of one route. Retryable (idempotent) methods: attempts on
unavailable,resource-exhausted,cancelled, each try budget/(attempts+1), so callee time x tries
stays within the caller's deadline (ARCHITECTURE.md). Everything else: attempts 0, because
Istio would otherwise retry non-idempotent calls. Input: dict "budget" <ms> "attempts" <n> "retryable" <bool>.
*/}}
{{- define "jamey.retries" -}}
{{- $budget := int .budget -}}
{{- $attempts := ternary (int .attempts) 0 .retryable -}}
timeout: {{ include "jamey.ms" $budget }}
retries:
  attempts: {{ $attempts }}
  {{- if gt $attempts 0 }}
  perTryTimeout: {{ include "jamey.ms" (div $budget (add $attempts 1)) }}
  retryOn: unavailable,resource-exhausted,cancelled
  {{- end }}
{{- end -}}
