#!/usr/bin/env bash
# Installs dlq-reprocessor's shell completion (bash, zsh, fish) and its man page, both
# generated from the command line's own definition (swift-argument-parser), so they always
# match the binary they came from.
#
#   scripts/install-completions.sh [--prefix DIR] [--bin PATH] [--no-man]
#
# --prefix  where to install (default ~/.local; /usr/local for every user, as root):
#             PREFIX/share/bash-completion/completions/dlq-reprocessor
#             PREFIX/share/zsh/site-functions/_dlq-reprocessor
#             PREFIX/share/fish/vendor_completions.d/dlq-reprocessor.fish
#               (~/.config/fish/completions/dlq-reprocessor.fish when PREFIX is under ~)
#             PREFIX/share/man/man1/dlq-reprocessor.1
# --bin     the binary whose completion to install (default: dlq-reprocessor on PATH, else
#           this checkout's release build, else its debug build)
# --no-man  skip the man page (it needs this checkout and a Swift toolchain: the man page is
#           made by swift-argument-parser's generate-manual plugin, which runs the package's
#           own build of dlq-reprocessor)
set -euo pipefail
cd "$(dirname "$0")/.."

PREFIX="$HOME/.local"
BIN=""
MAN=1
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) PREFIX="${2:?--prefix needs a folder}"; shift 2 ;;
        --bin) BIN="${2:?--bin needs a path}"; shift 2 ;;
        --no-man) MAN=0; shift ;;
        -h | --help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "install-completions: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

if [ -z "$BIN" ]; then
    for candidate in "$(command -v dlq-reprocessor || true)" .build/release/dlq-reprocessor .build/debug/dlq-reprocessor; do
        if [ -n "$candidate" ] && [ -x "$candidate" ]; then BIN="$candidate"; break; fi
    done
fi
[ -n "$BIN" ] && [ -x "$BIN" ] || {
    echo "install-completions: no dlq-reprocessor binary; build one (swift build -c release) or pass --bin PATH" >&2
    exit 1
}

install_generated() { # shell, destination
    mkdir -p "$(dirname "$2")"
    "$BIN" --generate-completion-script "$1" >"$2.tmp"
    mv "$2.tmp" "$2"
    echo "installed $1 completion: $2"
}
install_generated bash "$PREFIX/share/bash-completion/completions/dlq-reprocessor"
install_generated zsh "$PREFIX/share/zsh/site-functions/_dlq-reprocessor"
# fish reads a user's completions from its config folder, and vendors' from PREFIX/share/fish.
case "$PREFIX" in
    "$HOME"/*) FISH_DIR="${XDG_CONFIG_HOME:-$HOME/.config}/fish/completions" ;;
    *) FISH_DIR="$PREFIX/share/fish/vendor_completions.d" ;;
esac
install_generated fish "$FISH_DIR/dlq-reprocessor.fish"

if [ "$MAN" = 1 ]; then
    # The plugin builds every product (release) and writes a page for each executable into its work folder.
    swift package plugin generate-manual >/dev/null 2>&1
    page=$(find .build/plugins -name dlq-reprocessor.1 | head -n 1)
    [ -n "$page" ] || { echo "install-completions: generate-manual wrote no dlq-reprocessor.1" >&2; exit 1; }
    mkdir -p "$PREFIX/share/man/man1"
    install -m 0644 "$page" "$PREFIX/share/man/man1/dlq-reprocessor.1"
    echo "installed the man page: $PREFIX/share/man/man1/dlq-reprocessor.1 (man dlq-reprocessor)"
fi

case "$PREFIX" in
    "$HOME"/*)
        echo "zsh: add $PREFIX/share/zsh/site-functions to fpath before compinit in ~/.zshrc if it is not there"
        ;;
esac
