#!/usr/bin/env bash
# Makes sure a Redis answers on 127.0.0.1:6379 (the Celery broker of the tests that start
# real workers, docs/jobs.md): the machine's own server, or Debian's redis-server started
# here (installed when missing), keeping nothing on disk.
set -euo pipefail
PORT=${REDIS_PORT:-6379}
answers() { (exec 3<>/dev/tcp/127.0.0.1/"$PORT" && printf 'PING\r\n' >&3 && head -c 5 <&3 | grep -q PONG) 2>/dev/null; }
if answers; then exit 0; fi
if ! command -v redis-server >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server >/dev/null
fi
redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes >/dev/null
for _ in $(seq 1 50); do answers && exit 0; sleep 0.1; done
echo "Redis did not start on 127.0.0.1:$PORT" >&2
exit 1
