#!/usr/bin/env bash
# Set up what is missing, then show live file opens on this machine: `ig run trace_open`.
# Extra arguments go to ig run (e.g. `scripts/demo.sh -o json -t 10`).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
exec "$root/bin/ig" run trace_open "$@"
