{{/* One Deployment. Input: dict "root" $ "s" <service> "track" stable|canary "image" <image map>. */}}
{{- define "jamey.deployment" -}}
{{- $root := .root -}}
{{- $s := .s -}}
{{- $track := .track -}}
{{- $grpc := eq $s.graph.protocol "grpc" -}}
{{- $name := ternary $s.fullname (printf "%s-canary" $s.fullname) (eq $track "stable") -}}
{{- $hpa := and $s.autoscaling.enabled (eq $track "stable") }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  labels:
    {{- include "jamey.labels" (dict "root" $root "s" $s) | nindent 4 }}
    version: {{ $track }}
  {{- if not $hpa }}
  annotations:
    {{- if eq $track "canary" }}
    jamey.io/no-hpa-reason: "canary: fixed size (services.{{ $s.name }}.canary.replicas) and short-lived; the service's PDB covers its pods"
    {{- else }}
    jamey.io/no-hpa-reason: "autoscaling disabled in values (services.{{ $s.name }}.autoscaling.enabled=false); replicas fixed at {{ int $s.replicas }}"
    {{- end }}
  {{- end }}
spec:
  {{- if not $hpa }}
  replicas: {{ ternary (int $s.canary.replicas) (int $s.replicas) (eq $track "canary") }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "jamey.selectorLabels" (dict "root" $root "s" $s "track" $track) | nindent 6 }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 25%
      maxUnavailable: 0
  template:
    metadata:
      labels:
        {{- include "jamey.labels" (dict "root" $root "s" $s) | nindent 8 }}
        version: {{ $track }}
        {{- with $s.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        checksum/config: {{ include "jamey.env" (dict "root" $root "s" $s) | sha256sum }}
        checksum/secret-refs: {{ include "jamey.secretEnv" (dict "root" $root "s" $s) | sha256sum }}
        # Istio merges the app's /metrics into the sidecar's 15020 endpoint (plain text, so
        # Prometheus needs no mesh certificate).
        prometheus.io/scrape: "true"
        prometheus.io/port: {{ int $s.graph.ports.admin | quote }}
        prometheus.io/path: /metrics
        {{- if $root.Values.istio.enabled }}
        # The proxy starts before the app and drains after it: preStop + drain time.
        proxy.istio.io/config: {{ dict "holdApplicationUntilProxyStarts" true "terminationDrainDuration" (printf "%ds" (add (int $s.preStopSleepSeconds) (div (add (int $s.shutdownGraceMs) 999) 1000))) | toJson | quote }}
        {{- end }}
        {{- with $s.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ $s.fullname }}
      # The services never call the Kubernetes API.
      automountServiceAccountToken: false
      enableServiceLinks: false
      terminationGracePeriodSeconds: {{ include "jamey.terminationGrace" $s }}
      {{- with $s.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
      {{- with $s.imagePullSecrets }}
      imagePullSecrets:
        {{- range . }}
        - name: {{ . }}
        {{- end }}
      {{- end }}
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        runAsGroup: 10001
        fsGroup: 10001
        seccompProfile:
          type: RuntimeDefault
      {{- if $s.topologySpread.enabled }}
      topologySpreadConstraints:
        {{- range $key := list "topology.kubernetes.io/zone" "kubernetes.io/hostname" }}
        - maxSkew: {{ int $s.topologySpread.maxSkew }}
          topologyKey: {{ $key }}
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              {{- include "jamey.selectorLabels" (dict "root" $root "s" $s "track" $track) | nindent 14 }}
          matchLabelKeys:
            - pod-template-hash
        {{- end }}
      {{- end }}
      {{- with $s.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $s.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $s.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ $s.name }}
          image: {{ include "jamey.image" (dict "s" $s "image" .image "appVersion" $root.Chart.AppVersion) | quote }}
          imagePullPolicy: {{ .image.pullPolicy }}
          ports:
            - name: {{ ternary "grpc" "http" $grpc }}
              containerPort: {{ int $s.graph.ports.main }}
              protocol: TCP
            - name: http-metrics
              containerPort: {{ int $s.graph.ports.admin }}
              protocol: TCP
            {{- with $s.graph.ports.status }}
            # telemetry's status page (HTTP); not probed: readiness is the gRPC health check.
            - name: http-status
              containerPort: {{ int . }}
              protocol: TCP
            {{- end }}
          envFrom:
            - configMapRef:
                name: {{ $s.fullname }}
          env:
            - name: JAMEY_TRACK
              value: {{ $track }}
            # The pod and namespace become the k8s.pod.name / k8s.namespace.name (and
            # service.instance.id) resource attributes of every span (@jamey/telemetry/register).
            - name: POD_NAME
              valueFrom:
                fieldRef:
                  fieldPath: metadata.name
            - name: POD_NAMESPACE
              valueFrom:
                fieldRef:
                  fieldPath: metadata.namespace
            - name: OTEL_RESOURCE_ATTRIBUTES
              value: {{ printf "service.namespace=jamey,deployment.environment=%s,service.version=%s,jamey.track=%s" $root.Release.Namespace (default $root.Chart.AppVersion .image.tag) $track | quote }}
            {{- include "jamey.secretEnv" (dict "root" $root "s" $s) | nindent 12 }}
            # Service-token keys, as files re-read on rotation (docs/security.md).
            - name: JAMEY_SERVICE_SIGNING_KEY_FILE
              value: /var/run/secrets/jamey/service-auth/signing-key.jwk
            - name: JAMEY_SERVICE_PUBLIC_KEYS_FILE
              value: /var/run/secrets/jamey/service-auth/service-keys.jwks
            {{- if eq $s.name "audit" }}
            - name: AUDIT_SIGNING_KEY_FILE
              value: /var/run/secrets/jamey/audit-log/signing-key.pem
            {{- end }}
            {{- if and (eq $s.name "gateway") $root.Values.userAuth.keyFileSecret }}
            # The identity provider's public keys for user tokens (re-read on change).
            - name: GATEWAY_AUTH_KEY_FILE
              value: /var/run/secrets/jamey/user-auth/user-token-keys
            {{- end }}
          {{- if $grpc }}
          startupProbe:
            grpc:
              port: {{ int $s.graph.ports.main }}
            periodSeconds: {{ int $s.probes.startup.periodSeconds }}
            failureThreshold: {{ int $s.probes.startup.failureThreshold }}
            timeoutSeconds: {{ int $s.probes.startup.timeoutSeconds }}
          readinessProbe:
            grpc:
              port: {{ int $s.graph.ports.main }}
            periodSeconds: {{ int $s.probes.readiness.periodSeconds }}
            failureThreshold: {{ int $s.probes.readiness.failureThreshold }}
            timeoutSeconds: {{ int $s.probes.readiness.timeoutSeconds }}
          livenessProbe:
            grpc:
              port: {{ int $s.graph.ports.main }}
            periodSeconds: {{ int $s.probes.liveness.periodSeconds }}
            failureThreshold: {{ int $s.probes.liveness.failureThreshold }}
            timeoutSeconds: {{ int $s.probes.liveness.timeoutSeconds }}
          {{- else }}
          # The gateway serves HTTP, not gRPC: its admin server answers /healthz and /readyz.
          startupProbe:
            httpGet:
              path: /healthz
              port: {{ int $s.graph.ports.admin }}
            periodSeconds: {{ int $s.probes.startup.periodSeconds }}
            failureThreshold: {{ int $s.probes.startup.failureThreshold }}
            timeoutSeconds: {{ int $s.probes.startup.timeoutSeconds }}
          readinessProbe:
            httpGet:
              path: /readyz
              port: {{ int $s.graph.ports.admin }}
            periodSeconds: {{ int $s.probes.readiness.periodSeconds }}
            failureThreshold: {{ int $s.probes.readiness.failureThreshold }}
            timeoutSeconds: {{ int $s.probes.readiness.timeoutSeconds }}
          livenessProbe:
            httpGet:
              path: /healthz
              port: {{ int $s.graph.ports.admin }}
            periodSeconds: {{ int $s.probes.liveness.periodSeconds }}
            failureThreshold: {{ int $s.probes.liveness.failureThreshold }}
            timeoutSeconds: {{ int $s.probes.liveness.timeoutSeconds }}
          {{- end }}
          lifecycle:
            preStop:
              # Keep serving while endpoints and Envoy stop routing here; SIGTERM follows.
              exec:
                command: ["sleep", "{{ int $s.preStopSleepSeconds }}"]
          resources:
            {{- toYaml $s.resources | nindent 12 }}
          securityContext:
            runAsNonRoot: true
            runAsUser: 10001
            runAsGroup: 10001
            allowPrivilegeEscalation: false
            privileged: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: ["ALL"]
            seccompProfile:
              type: RuntimeDefault
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            # No subPath: kubelet then updates the files when the Secret changes.
            - name: service-auth
              mountPath: /var/run/secrets/jamey/service-auth
              readOnly: true
            {{- if eq $s.name "audit" }}
            - name: audit-log
              mountPath: /var/run/secrets/jamey/audit-log
              readOnly: true
            {{- end }}
            {{- if and (eq $s.name "gateway") $root.Values.userAuth.keyFileSecret }}
            - name: user-auth
              mountPath: /var/run/secrets/jamey/user-auth
              readOnly: true
            {{- end }}
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: {{ $s.tmpSizeLimit }}
        - name: service-auth
          secret:
            secretName: {{ $root.Values.serviceAuth.secretName }}
            defaultMode: 0400
            # Only this service's private key, and everyone's public keys.
            items:
              - key: {{ $s.name }}.private.jwk
                path: signing-key.jwk
              - key: service-keys.jwks
                path: service-keys.jwks
        {{- if eq $s.name "audit" }}
        - name: audit-log
          secret:
            secretName: {{ $root.Values.auditLog.signingKeySecret }}
            defaultMode: 0400
            items:
              - key: signing-key.pem
                path: signing-key.pem
        {{- end }}
        {{- if and (eq $s.name "gateway") $root.Values.userAuth.keyFileSecret }}
        - name: user-auth
          secret:
            secretName: {{ $root.Values.userAuth.keyFileSecret }}
            defaultMode: 0400
            items:
              - key: user-token-keys
                path: user-token-keys
        {{- end }}
{{- end -}}

{{/* Environment from Secrets (database URL, Redis URL, extra secretEnv). Input: dict "root" $ "s" <service>. */}}
{{- define "jamey.secretEnv" -}}
{{- $root := .root -}}
{{- $s := .s -}}
{{- if $s.graph.database }}
- name: {{ $s.env_prefix }}_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "jamey.databaseSecretName" . }}
      key: {{ include "jamey.databaseSecretKey" . }}
{{- end }}
{{- with $root.Values.infrastructure.redis }}
{{- if .enabled }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ .secretName }}
      key: {{ .key }}
{{- end }}
{{- end }}
{{- range $s.secretEnv }}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ .secretName }}
      key: {{ .key }}
{{- end }}
{{- end -}}
