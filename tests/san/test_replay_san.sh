#!/bin/sh
# test_replay_san.sh - the replay tests against the ASan/UBSan/LSan build (make san).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/san-env.sh"
exec "$here/../replay/test_replay.sh"
