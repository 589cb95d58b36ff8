#!/usr/bin/env bash
# Install WAIT as a systemd service on this host: the `wait` user, its folders, the
# binary, the units and /etc/wait/wait.toml. Safe to run again: the user and folders are
# created only when missing, an edited /etc/wait/wait.toml is kept (the shipped one is
# written beside it as wait.toml.dist), the binary and the units are replaced (that is
# how an upgrade installs a new binary).
#
#   deploy/install.sh [--binary FILE] [--root DIR]
#
#   --binary FILE  the waitctl to install (default: target/release/waitctl)
#   --root DIR     a trial installation under DIR: every path in the installed config and
#                  units points under DIR, no user is created and nothing changes owner.
#                  The deploy guide check and the tests use it; it needs no root.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
binary="$here/../target/release/waitctl"
root=""

while [ $# -gt 0 ]; do
    case "$1" in
    --binary) binary="${2:?--binary needs a file}"; shift 2 ;;
    --root) root="${2?--root needs a folder}"; shift 2 ;;
    -h | --help) sed -n '2,13s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
if [ -n "$root" ]; then
    mkdir -p "$root"
    root=$(cd "$root" && pwd)
fi
if [ ! -x "$binary" ]; then
    echo "install.sh: no executable waitctl at $binary (build it with 'make build', or pass --binary FILE)" >&2
    exit 2
fi
if [ -z "$root" ] && [ "$(id -u)" -ne 0 ]; then
    echo "install.sh: run as root (or use --root DIR for a trial installation)" >&2
    exit 2
fi

# The paths the units and the config name; under --root they are rewritten to DIR/….
rewrite() {
    if [ -n "$root" ]; then
        sed -e "s#/usr/local/bin/waitctl#$root/usr/local/bin/waitctl#g" \
            -e "s#/etc/wait/#$root/etc/wait/#g" \
            -e "s#/var/lib/wait#$root/var/lib/wait#g" \
            -e "s#/srv/wait-repository#$root/srv/wait-repository#g" "$1"
    else
        cat "$1"
    fi
}

if [ -z "$root" ] && ! id -u wait >/dev/null 2>&1; then
    useradd --system --user-group --home-dir /var/lib/wait --no-create-home \
        --shell /usr/sbin/nologin --comment "WAIT image factory" wait
    echo "created user wait"
fi

# The state and the repository belong to the service user; the config is readable by
# it but only root may change it.
install -d -m 0755 "$root/etc/wait" "$root/usr/local/bin" "$root/etc/systemd/system"
for dir in "$root/var/lib/wait" "$root/srv/wait-repository"; do
    if [ ! -d "$dir" ]; then
        install -d -m 0750 "$dir"
        echo "created $dir"
    fi
    if [ -z "$root" ]; then
        chown wait:wait "$dir"
    fi
done

# Through a temporary name and a rename, so a running process keeps its old binary.
install -m 0755 "$binary" "$root/usr/local/bin/.waitctl.new"
mv -f "$root/usr/local/bin/.waitctl.new" "$root/usr/local/bin/waitctl"
echo "installed $root/usr/local/bin/waitctl ($("$root/usr/local/bin/waitctl" --version))"

for unit in wait-server.service wait-worker@.service; do
    rewrite "$here/systemd/$unit" >"$root/etc/systemd/system/$unit.tmp"
    chmod 0644 "$root/etc/systemd/system/$unit.tmp"
    mv -f "$root/etc/systemd/system/$unit.tmp" "$root/etc/systemd/system/$unit"
    echo "installed $root/etc/systemd/system/$unit"
done

config="$root/etc/wait/wait.toml"
shipped=$(rewrite "$here/wait.toml")
if [ ! -e "$config" ]; then
    printf '%s\n' "$shipped" >"$config"
    echo "installed $config (edit it, then run: waitctl config check --config /etc/wait/wait.toml)"
elif [ "$(cat "$config")" != "$shipped" ]; then
    printf '%s\n' "$shipped" >"$config.dist"
    echo "kept $config (yours); the shipped version is in $config.dist"
fi
chmod 0640 "$config"
if [ -z "$root" ]; then
    chgrp wait "$config"
fi

if [ -z "$root" ] && command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl daemon-reload
fi
echo "done. Next: edit $config, then see docs/DEPLOY_GUIDE.md."
