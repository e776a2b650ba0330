#!/bin/sh
# Starts one Jamey service: node apps/$JAMEY_SERVICE/dist/main.js, exec'd so node is PID 1 and
# receives SIGTERM directly (main.ts owns the ordered shutdown).
#
# Heap: --max-old-space-size is JAMEY_HEAP_PERCENT (default 75) % of the container's memory
# limit, read from cgroup v2 (memory.max) or v1 (memory.limit_in_bytes). Node 20 has no
# --max-old-space-size-percentage, and its own default ignores the cgroup limit, so without this
# the heap can outgrow the limit and the pod is OOM-killed instead of failing a GC. The rest of
# the limit is left for buffers, code and native memory. An explicit --max-old-space-size in
# NODE_OPTIONS wins.
set -eu

service="${JAMEY_SERVICE:?JAMEY_SERVICE is not set (build arg SERVICE)}"
app="${JAMEY_APP_DIR:-/app}"
main="${app}/apps/${service}/dist/main.js"
cgroup="${JAMEY_CGROUP_DIR:-/sys/fs/cgroup}"

limit=""
if [ -r "${cgroup}/memory.max" ]; then
  limit="$(cat "${cgroup}/memory.max")"
elif [ -r "${cgroup}/memory/memory.limit_in_bytes" ]; then
  limit="$(cat "${cgroup}/memory/memory.limit_in_bytes")"
fi
case "${NODE_OPTIONS:-}" in
  *--max-old-space-size*) ;;
  *)
    # "max" (v2) or a huge number (v1) means no limit: keep node's default.
    if [ -n "${limit}" ] && [ "${limit}" != "max" ] && [ "${limit}" -lt 1099511627776 ] 2>/dev/null; then
      heap_mb=$(( limit / 1048576 * ${JAMEY_HEAP_PERCENT:-75} / 100 ))
      if [ "${heap_mb}" -lt 64 ]; then heap_mb=64; fi
      NODE_OPTIONS="${NODE_OPTIONS:-} --max-old-space-size=${heap_mb}"
    fi
    ;;
esac

# >>> OpenTelemetry bootstrap hook (STYLE.md §2: instrumentation loads first, via --import).
# @jamey/telemetry/register starts the OpenTelemetry SDK before the app, configured by the
# standard OTEL_* variables (the chart sets them). OTEL_SDK_DISABLED=true turns it off.
otel_bootstrap="${JAMEY_OTEL_BOOTSTRAP:-${app}/libs/telemetry/dist/tracing/register.js}"
if [ -f "${otel_bootstrap}" ]; then
  NODE_OPTIONS="${NODE_OPTIONS:-} --import=${otel_bootstrap}"
fi
# <<< OpenTelemetry bootstrap hook

export NODE_OPTIONS="${NODE_OPTIONS:-}"
exec node --enable-source-maps "${main}" "$@"
