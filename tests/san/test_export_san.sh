#!/bin/sh
# test_export_san.sh - tests/replay/test_export.sh against the ASan/UBSan/LSan build (make san).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/san-env.sh"
exec "$here/../replay/test_export.sh"
