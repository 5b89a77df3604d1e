#!/usr/bin/env bash
# The database-import tests start their own PostgreSQL server from Debian's postgresql package (initdb,
# pg_ctl). Install it with apt-get when we can; otherwise say so (those tests then skip with a clear reason).
# Never fails the build.
have() {
  command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 && return 0
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1
}
if have; then exit 0; fi
if command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO="none"; fi
  fi
  if [ "$SUDO" != "none" ]; then
    echo "installing postgresql for the database-import tests…"
    $SUDO apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null 2>&1 || true
  fi
fi
if ! have; then
  echo "PostgreSQL server not available (Debian: apt-get install postgresql): the PostgreSQL import tests will be skipped" >&2
fi
exit 0
