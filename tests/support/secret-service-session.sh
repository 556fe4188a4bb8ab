#!/usr/bin/env bash
# Runs a command inside a private D-Bus session bus that has an unlocked
# gnome-keyring Secret Service, for the tests in
# tests/keyring_secret_service.rs.
#
#   tests/support/secret-service-session.sh COMMAND [ARGUMENT...]
#   tests/support/secret-service-session.sh cargo test --test keyring_secret_service
#
# The keyring files live in a temporary XDG_DATA_HOME (and the daemon's
# control socket in a temporary XDG_RUNTIME_DIR), both removed afterwards,
# so the user's own keyrings are never read or changed. The login keyring is
# created and unlocked with the password in IBWAPI_TEST_KEYRING_PASSWORD
# (default "test"). Needs dbus-run-session (Debian: dbus) and
# gnome-keyring-daemon (Debian: gnome-keyring). Exits with the command's
# status; 127 when a needed program is missing.

set -euo pipefail

if [[ $# -eq 0 ]]; then
    echo "usage: $0 COMMAND [ARGUMENT...]" >&2
    exit 2
fi

for program in dbus-run-session gnome-keyring-daemon dbus-send; do
    if ! command -v "$program" >/dev/null; then
        echo "$0: $program is not installed (Debian: apt-get install dbus gnome-keyring)" >&2
        exit 127
    fi
done

# The part that runs inside the new session bus; "$@" is the command.
inner='
set -euo pipefail
scratch=$(mktemp -d)
trap "rm -rf \"\$scratch\"" EXIT
mkdir -m 700 "$scratch/data" "$scratch/run"
export XDG_DATA_HOME="$scratch/data" XDG_RUNTIME_DIR="$scratch/run"

# --unlock reads the password on stdin, creates the login keyring if
# needed, and prints variables to export (none with some versions).
eval "$(printf %s "${IBWAPI_TEST_KEYRING_PASSWORD:-test}" \
    | gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL 2>/dev/null || true

# Wait until the daemon owns org.freedesktop.secrets.
for _ in $(seq 50); do
    if dbus-send --session --print-reply --dest=org.freedesktop.DBus \
        /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner \
        string:org.freedesktop.secrets 2>/dev/null | grep -q "boolean true"; then
        break
    fi
    sleep 0.1
done

"$@"
'

exec dbus-run-session -- bash -c "$inner" bash "$@"
