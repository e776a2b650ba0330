{{/*
Helpers. The per-service loop in every template is:

  {{- range $name := include "jamey.serviceNames" $ | fromJsonArray }}
  {{- $s := include "jamey.service" (dict "root" $ "name" $name) | fromJson }}

but fromJson turns integers into floats, so instead "jamey.resolve" stores the merged service
into the dict it is given ($ctx.s), keeping every value's type.
*/}}

{{- define "jamey.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else if contains "jamey" .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-jamey" .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "jamey.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The call graph, generated from libs/topology (deploy/scripts/render-call-graph.mjs). */}}
{{- define "jamey.graph" -}}
{{- .Files.Get "files/call-graph.json" -}}
{{- end -}}

{{/* Deep merge: copies .src into .dst recursively. Unlike mergeOverwrite, false and 0 win. */}}
{{- define "jamey.deepMerge" -}}
{{- $dst := .dst -}}
{{- range $key, $value := .src -}}
{{- if and (kindIs "map" $value) (kindIs "map" (get $dst $key)) -}}
{{- include "jamey.deepMerge" (dict "dst" (get $dst $key) "src" $value) -}}
{{- else -}}
{{- $_ := set $dst $key (deepCopy $value) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Resolves one service into $ctx: $ctx.s = defaults deep-merged with services.<name>, plus
name, fullname, graph (its call-graph entry). Input: dict "root" $ "name" <service>.
*/}}
{{- define "jamey.resolve" -}}
{{- $root := .root -}}
{{- $graph := include "jamey.graph" $root | fromJson -}}
{{- $entry := get $graph.services .name -}}
{{- if not $entry -}}{{- fail (printf "service %q is not in files/call-graph.json" .name) -}}{{- end -}}
{{- $s := deepCopy $root.Values.defaults -}}
{{- include "jamey.deepMerge" (dict "dst" $s "src" (get $root.Values.services .name)) -}}
{{- $_ := set $s "name" .name -}}
{{- $_ := set $s "fullname" (printf "%s-%s" (include "jamey.fullname" $root) .name) -}}
{{- $_ := set $s "graph" $entry -}}
{{- $_ := set $s "env_prefix" (upper .name) -}}
{{- $_ := set . "s" $s -}}
{{- end -}}

{{/* Names of the enabled services, as a JSON array, in call-graph order. */}}
{{- define "jamey.serviceNames" -}}
{{- $graph := include "jamey.graph" . | fromJson -}}
{{- $names := list -}}
{{- range $name, $_ := $graph.services -}}
{{- $values := get $.Values.services $name -}}
{{- if and $values $values.enabled -}}{{- $names = append $names $name -}}{{- end -}}
{{- end -}}
{{- toJson $names -}}
{{- end -}}

{{/* Whether a service is enabled. Input: dict "root" $ "name" <service>. Prints "true" or "". */}}
{{- define "jamey.enabled" -}}
{{- $values := get .root.Values.services .name -}}
{{- if and $values $values.enabled -}}true{{- end -}}
{{- end -}}

{{- define "jamey.mode" -}}
{{- .Values.progressiveDelivery.mode -}}
{{- end -}}

{{/* Labels on every object. Input: dict "root" $ "s" <service or nil>. */}}
{{- define "jamey.labels" -}}
helm.sh/chart: {{ include "jamey.chart" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: jamey
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
{{- with .s }}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/component: {{ ternary "gateway" "service" (eq .graph.protocol "http") }}
jamey.io/service: {{ .name }}
{{- end }}
{{- end -}}

{{/*
Selector of one Deployment's pods. Never change it: Deployment selectors are immutable, so a
change breaks `helm upgrade` (tests/deploy checks this against fixtures/previous-values.yaml).
`version` (stable|canary) is the Istio subset label. Input: dict "root" $ "s" <service> "track".
*/}}
{{- define "jamey.selectorLabels" -}}
app.kubernetes.io/name: {{ .s.name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
version: {{ .track }}
{{- end -}}

{{/* Selector of every pod of a service, both tracks: Service, PDB and policies. */}}
{{- define "jamey.serviceSelector" -}}
jamey.io/service: {{ .s.name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{/* Image reference: registry/repository@digest, or :tag. Input: dict "s" <service> "image" <image map>. */}}
{{- define "jamey.image" -}}
{{- $img := .image -}}
{{- $repo := default (printf "jamey/%s" .s.name) $img.repository -}}
{{- $ref := $repo -}}
{{- if $img.registry -}}{{- $ref = printf "%s/%s" $img.registry $repo -}}{{- end -}}
{{- if $img.digest -}}
{{- printf "%s@%s" $ref $img.digest -}}
{{- else -}}
{{- printf "%s:%s" $ref (default .appVersion $img.tag) -}}
{{- end -}}
{{- end -}}

{{/* host:port of a service's gRPC server, by its DNS name. Input: dict "root" $ "name" <service>. */}}
{{- define "jamey.address" -}}
{{- $graph := include "jamey.graph" .root | fromJson -}}
{{- $entry := get $graph.services .name -}}
{{- printf "%s-%s.%s.svc.%s:%d" (include "jamey.fullname" .root) .name .root.Release.Namespace .root.Values.clusterDomain (int $entry.ports.main) -}}
{{- end -}}

{{- define "jamey.host" -}}
{{- printf "%s-%s.%s.svc.%s" (include "jamey.fullname" .root) .name .root.Release.Namespace .root.Values.clusterDomain -}}
{{- end -}}

{{/* Istio principal of a service's ServiceAccount. Input: dict "root" $ "name" <service>. */}}
{{- define "jamey.principal" -}}
{{- printf "%s/ns/%s/sa/%s-%s" .root.Values.istio.trustDomain .root.Release.Namespace (include "jamey.fullname" .root) .name -}}
{{- end -}}

{{/*
The deadline budget a caller gives each downstream call, ms: the gateway's
downstreamTimeoutMs, consciousness's dependencyBudgetMs. Fails for a caller without one, so a
new call-graph edge cannot ship without a timeout. Input: dict "root" $ "name" <caller>.
*/}}
{{- define "jamey.callerBudgetMs" -}}
{{- $cfg := (get .root.Values.services .name).config -}}
{{- if eq .name "gateway" -}}{{- int $cfg.downstreamTimeoutMs -}}
{{- else if eq .name "consciousness" -}}{{- int $cfg.dependencyBudgetMs -}}
{{- else -}}{{- fail (printf "no deadline budget is known for caller %q: add it to jamey.callerBudgetMs" .name) -}}
{{- end -}}
{{- end -}}

{{/* terminationGracePeriodSeconds: preStop + drain (SHUTDOWN_GRACE_MS) + force-exit margin (5 s) + 2 s. */}}
{{- define "jamey.terminationGrace" -}}
{{- $drain := div (add (int .shutdownGraceMs) 999) 1000 -}}
{{- add (int .preStopSleepSeconds) $drain 5 2 -}}
{{- end -}}

{{/* The database URL Secret of a service: name and key. Input: dict "root" $ "s" <service>. */}}
{{- define "jamey.databaseSecretName" -}}
{{- $pg := .root.Values.infrastructure.postgres -}}
{{- if eq $pg.mode "cloudnativepg" -}}
{{- printf "%s-%s-app" $pg.cloudnativepg.clusterPrefix .s.name -}}
{{- else -}}
{{- $pg.secretName -}}
{{- end -}}
{{- end -}}

{{- define "jamey.databaseSecretKey" -}}
{{- if eq .root.Values.infrastructure.postgres.mode "cloudnativepg" -}}uri{{- else -}}{{ .s.name }}-url{{- end -}}
{{- end -}}

{{- define "jamey.kafkaBrokers" -}}
{{- $k := .Values.infrastructure.kafka -}}
{{- if eq $k.mode "strimzi" -}}
{{- printf "%s-kafka-bootstrap.%s.svc:%d" $k.strimzi.clusterName $k.strimzi.namespace (int $k.strimzi.listenerPort) -}}
{{- else -}}
{{- $k.brokers -}}
{{- end -}}
{{- end -}}

{{/* Istio duration from milliseconds. */}}
{{- define "jamey.ms" -}}
{{- printf "%dms" (int .) -}}
{{- end -}}

{{/* Regex matching the gRPC paths of a list of methods. Input: dict "service" <fq name> "methods" <list>. */}}
{{- define "jamey.methodRegex" -}}
{{- printf "^/%s/(%s)$" (.service | replace "." "\\.") (join "|" .methods) -}}
{{- end -}}

{{/* Port of telemetry's status page (files/call-graph.json, from libs/topology STATUS_PAGE_PORT). */}}
{{- define "jamey.statusPort" -}}
{{- $graph := include "jamey.graph" . | fromJson -}}
{{- int $graph.services.telemetry.ports.status -}}
{{- end -}}

{{/*
Where the gateway's GET /status sends the browser (TELEMETRY_STATUS_URL): statusPage.url, or the
local end of the port-forward that NOTES.txt prints.
*/}}
{{- define "jamey.statusPageUrl" -}}
{{- .Values.statusPage.url | default (printf "http://127.0.0.1:%s/" (include "jamey.statusPort" .)) -}}
{{- end -}}

{{/*
"true" when the Istio ingress routes /status/ to telemetry's status page. Fails when asked for
without what it needs, rather than render a route nothing serves.
*/}}
{{- define "jamey.statusIngress" -}}
{{- if .Values.statusPage.ingress.enabled -}}
{{- if not (and .Values.istio.enabled .Values.istio.ingress.enabled) -}}
{{- fail "statusPage.ingress.enabled needs istio.enabled and istio.ingress.enabled" -}}
{{- end -}}
{{- if eq (include "jamey.mode" .) "flagger" -}}
{{- fail "statusPage.ingress.enabled: in progressiveDelivery.mode flagger, Flagger owns the ingress routes; reach the page by port-forward or your own proxy" -}}
{{- end -}}
{{- if and (include "jamey.enabled" (dict "root" . "name" "telemetry")) (include "jamey.enabled" (dict "root" . "name" "gateway")) -}}
true
{{- end -}}
{{- end -}}
{{- end -}}
