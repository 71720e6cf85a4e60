#!/usr/bin/env bash
# setup.sh: prepares this folder for `docker compose up`: the keys,
# passwords, genesis and policy in secrets/ (by ../setup-keys.sh, whose
# environment it passes on: GOVLOG, OPERATOR, WITNESS_URLS), a state folder
# per govlog service below state/, and .env with the user the govlog
# containers run as.
#
# Compose mounts secrets and bind mounts as they are on this host: the
# containers must run as the files' owner. That is you, or, when run as
# root, 65532 (the image's non-root user), to which it gives the files.
set -euo pipefail
cd "$(dirname "$0")"

../setup-keys.sh secrets
mkdir -p state/etcd state/serve-1 state/serve-2 state/witness-court state/witness-parliament state/witness-press state/monitor
uid=$(id -u) gid=$(id -g)
if [ "$uid" = 0 ]; then
	uid=65532 gid=65532
	chown -R "$uid:$gid" secrets state
fi
printf 'GOVLOG_UID=%s\nGOVLOG_GID=%s\n' "$uid" "$gid" >.env
echo "state folders in state/, the containers' user ($uid:$gid) in .env: docker compose up -d --build"
