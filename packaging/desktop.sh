#!/bin/sh
# Installs (or removes) finder's menu entry and icon for the current user, where XDG
# desktops look: $XDG_DATA_HOME/applications and $XDG_DATA_HOME/icons/hicolor/scalable/apps
# (XDG_DATA_HOME defaults to ~/.local/share). No root needed.
#
#   packaging/desktop.sh install EXEC     EXEC: the finder to start (the bundle, or a venv's)
#   packaging/desktop.sh uninstall
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
data=${XDG_DATA_HOME:-$HOME/.local/share}
apps=$data/applications
icons=$data/icons/hicolor/scalable/apps
entry=$apps/finder.desktop
icon=$icons/finder.svg

refresh() {
    # Menus and icon themes cache what they list; refresh the caches where the tools exist.
    if command -v update-desktop-database >/dev/null 2>&1; then
        update-desktop-database "$apps" >/dev/null 2>&1 || true
    fi
    # Only a cache that exists already: a new one would hide icons added later without it.
    if [ -f "$data/icons/hicolor/icon-theme.cache" ] && command -v gtk-update-icon-cache >/dev/null 2>&1; then
        gtk-update-icon-cache -q -t "$data/icons/hicolor" >/dev/null 2>&1 || true
    fi
}

case ${1:-} in
install)
    exec_path=${2:?usage: $0 install EXEC}
    case $exec_path in /*) ;; *) exec_path=$(pwd)/$exec_path ;; esac
    if [ ! -x "$exec_path" ]; then
        echo "$0: $exec_path is not an executable (run 'make package' or 'make setup')" >&2
        exit 1
    fi
    mkdir -p "$apps" "$icons"
    # Exec and TryExec: the desktop entry spec wants an absolute path, quoted.
    sed -e "s|^Exec=.*|Exec=\"$exec_path\"|" \
        -e "s|^TryExec=.*|TryExec=$exec_path|" \
        "$here/finder.desktop" >"$entry.tmp"
    mv "$entry.tmp" "$entry"
    cp "$root/finder/ui/resources/finder.svg" "$icon"
    refresh
    echo "installed $entry (starts $exec_path) and $icon"
    ;;
uninstall)
    rm -f "$entry" "$icon"
    refresh
    echo "removed $entry and $icon"
    ;;
*)
    echo "usage: $0 install EXEC | uninstall" >&2
    exit 2
    ;;
esac
