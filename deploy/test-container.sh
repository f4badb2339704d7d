#!/usr/bin/env bash
# Builds the Dockerfile with podman and runs the image as a user would (docs/deployment.md,
# "Containers"): the server comes up on a data volume, answers /ready, /v1/models and a chat
# completion, passes its HEALTHCHECK, has the optional engines, stops cleanly on SIGTERM and starts
# again on the same volume with its keys.
#
#   deploy/test-container.sh            as root, podman installed (Debian: apt-get install podman runc)
#
# Exit status 77: podman cannot run a container on this machine (nothing was tested).
#
# The base image: node:20-bookworm-slim when podman has it or can pull it. Where no container
# registry is reachable (this project's machines), PLINTH_STAND_IN_BASE=1 makes a stand-in under
# that name instead: Debian bookworm from Debian's mirror (debootstrap --variant=minbase) with this
# machine's Node 20 (node, npm, headers) in /usr/local as the official image has them, and the
# machine's own extra CA certificates (an egress proxy's) in NODE_EXTRA_CA_CERTS. The stand-in is
# cached in $PLINTH_CONTAINER_CACHE (default /var/tmp/plinth-container).
set -euo pipefail
cd "$(dirname "$0")/.."

image=localhost/plinth:test
base=docker.io/library/node:20-bookworm-slim
cache=${PLINTH_CONTAINER_CACHE:-/var/tmp/plinth-container}
key=sk-proj-container-test-000000000000000000
name=plinth-container-test-$$
data=$(mktemp -d /var/tmp/plinth-container-data.XXXXXX)
started=$(date +%s)
phase_started=$started
phase() {
  local now
  now=$(date +%s)
  echo "container: $1 ($((now - phase_started)) s)"
  phase_started=$now
}
cleanup() {
  podman rm -f "$name" >/dev/null 2>&1 || true
  rm -rf "$data"
}
trap cleanup EXIT

command -v podman >/dev/null || { echo "container: podman is not installed" >&2; exit 77; }

# The stand-in base image (see above).
if ! podman image exists "$base"; then
  if [ "${PLINTH_STAND_IN_BASE:-}" != 1 ]; then
    podman pull "$base" || { echo "container: cannot pull $base; PLINTH_STAND_IN_BASE=1 makes a stand-in" >&2; exit 77; }
  else
    case "$(node -v)" in v20.*) ;; *) echo "container: the stand-in needs this machine's Node 20, found $(node -v)" >&2; exit 1 ;; esac
    mkdir -p "$cache"
    if [ ! -f "$cache/base.tar" ]; then
      command -v debootstrap >/dev/null || { echo "container: the stand-in needs debootstrap" >&2; exit 77; }
      rootfs=$(mktemp -d "$cache/rootfs.XXXXXX")
      debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian >"$cache/debootstrap.log"
      rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
      node_prefix=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
      mkdir -p "$rootfs/usr/local/bin" "$rootfs/usr/local/lib/node_modules" "$rootfs/usr/local/include"
      cp "$(readlink -f "$(command -v node)")" "$rootfs/usr/local/bin/node"
      cp -a "$(npm root -g)/npm" "$rootfs/usr/local/lib/node_modules/"
      ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
      ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
      cp -a "$node_prefix/include/node" "$rootfs/usr/local/include/"
      cat /usr/local/share/ca-certificates/*.crt >"$rootfs/etc/extra-ca.pem" 2>/dev/null || true
      tar -C "$rootfs" -cf "$cache/base.tar.tmp" .
      mv "$cache/base.tar.tmp" "$cache/base.tar"
      rm -rf "$rootfs"
    fi
    podman import --change 'ENV NODE_EXTRA_CA_CERTS=/etc/extra-ca.pem' --change 'CMD ["node"]' \
      "$cache/base.tar" "$base" >/dev/null
  fi
  phase "base image $base ready"
fi

# Options this machine needs to run a container at all, the first set that works: crun refuses
# hybrid cgroup v1/v2 hosts (then runc), and podman's default limits (nofile 1048576) above the
# host's hard limits fail when the runtime lacks CAP_SYS_RESOURCE.
runtime_flags=
limit_flags=
limits="--ulimit nofile=16384:16384 --ulimit nproc=16384:16384"
for candidate in "|" "--runtime runc|" "--runtime runc|$limits" "|$limits"; do
  # shellcheck disable=SC2086
  if podman ${candidate%%|*} run --rm ${candidate#*|} --network host "$base" true >/dev/null 2>"$data/probe.err"; then
    runtime_flags=${candidate%%|*}
    limit_flags=${candidate#*|}
    found=1
    break
  fi
done
if [ -z "${found:-}" ]; then
  echo "container: podman cannot run a container here:" >&2
  cat "$data/probe.err" >&2
  exit 77
fi
echo "container: podman runs containers with: ${runtime_flags:-default runtime} ${limit_flags:-default limits}"

# docker format: the OCI format has no HEALTHCHECK (podman drops it)
# shellcheck disable=SC2086
podman $runtime_flags build $limit_flags --format docker --network host --pull=never -t "$image" .
phase "image built"

port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
# what bubblewrap needs to make the code interpreter's sandbox inside a container: its own
# namespaces (seccomp), and a /proc it may mount (podman and Docker mask parts of theirs)
sandbox_flags="--security-opt seccomp=unconfined --security-opt apparmor=unconfined --security-opt systempaths=unconfined"
run() { # extra podman run options
  # shellcheck disable=SC2086
  podman $runtime_flags run -d --name "$name" $limit_flags --network host \
    -e PLINTH_PORT="$port" -e PLINTH_HOST=127.0.0.1 "$@" -v "$data:/data" \
    $sandbox_flags "$image" >/dev/null
}
wait_ready() {
  for _ in $(seq 1 120); do
    curl -fsS "http://127.0.0.1:$port/ready" >/dev/null 2>&1 && return 0
    [ "$(podman inspect -f '{{.State.Running}}' "$name")" = true ] || break
    sleep 0.5
  done
  echo "container: the server did not become ready:" >&2
  podman logs "$name" >&2
  exit 1
}
check() { # what, then a command that must succeed
  local what=$1
  shift
  "$@" || { echo "container: FAILED: $what" >&2; podman logs "$name" >&2; exit 1; }
}

run -e PLINTH_BOOTSTRAP_PROJECT_KEY="$key"
wait_ready
phase "server ready on port $port"

models=$(curl -fsS -H "authorization: Bearer $key" "http://127.0.0.1:$port/v1/models")
check "/v1/models lists test-echo" grep -q '"id":"test-echo"' <<<"$models"
chat=$(curl -fsS -H "authorization: Bearer $key" -H 'content-type: application/json' \
  -d '{"model":"test-echo","messages":[{"role":"user","content":"hello from the container"}]}' \
  "http://127.0.0.1:$port/v1/chat/completions")
check "the chat completion echoes" grep -q '"content":"hello from the container"' <<<"$chat"
status=$(curl -s -o /dev/null -w '%{http_code}' -H 'authorization: Bearer sk-proj-wrong' "http://127.0.0.1:$port/v1/models")
check "a wrong key gets 401 (got $status)" test "$status" = 401
# shellcheck disable=SC2086
check "the HEALTHCHECK passes" podman $runtime_flags healthcheck run "$name"
# every optional engine, the code interpreter's sandbox included, as `plinth doctor` sees them
doctor=$(podman exec "$name" node bin/plinth.js doctor 2>&1 || true)
for part in 'sandbox start' numpy pandas matplotlib flite ffmpeg 'speech recognition' 'sharp (libvips)'; do
  check "plinth doctor: $part is ok" grep -q "^  ok  *$part" <<<"$doctor"
done
check "plinth doctor: all required parts are fine" grep -q '^All required parts are fine' <<<"$doctor"
check "pg_dump is in the image" podman exec "$name" pg_dump --version >/dev/null
check "the database is on the volume" test -f "$data/plinth.db"
phase "API, healthcheck and engines checked"

podman stop -t 20 "$name" >/dev/null
code=$(podman inspect -f '{{.State.ExitCode}}' "$name")
check "SIGTERM stops the server cleanly (exit code $code)" test "$code" = 0
podman rm "$name" >/dev/null
phase "stopped cleanly"

# without the bootstrap variable: the key must come from the database on the volume
run
wait_ready
models=$(curl -fsS -H "authorization: Bearer $key" "http://127.0.0.1:$port/v1/models")
check "after a restart on the same volume the key still works" grep -q '"id":"test-echo"' <<<"$models"
phase "restarted on the same volume"

echo "container: all checks passed in $(($(date +%s) - started)) s"
