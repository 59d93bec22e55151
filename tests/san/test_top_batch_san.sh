#!/bin/sh
# test_top_batch_san.sh - tests/replay/test_top_batch.sh against the ASan/UBSan/LSan build (make san).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/san-env.sh"
exec "$here/../replay/test_top_batch.sh"
