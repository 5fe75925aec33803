#!/usr/bin/env bash
# A `zfs` stand-in for the backup benchmark (scripts/bench-transfer.sh puts it on PATH as `zfs`):
# one dataset with one snapshot whose `zfs send` writes the file $BENCH_ZFS_DATA to stdout, so
# `z3 backup` and `zfs send … | aws s3 cp -` read the same bytes at the speed of `cat`. It answers
# what `z3 backup` asks, in the formats of the scripted zfs of the unit tests
# (src/commands/testing/scripted-zfs.ts): `list` (dataset, snapshots, bookmarks),
# `send -nvP` (the estimate: the file's size), `send`, and hold/release/holds/bookmark as no-ops.
#
#   BENCH_ZFS_DATA      the stream's bytes (a file)
#   BENCH_ZFS_SNAPSHOT  the snapshot's full name, e.g. bench/ds@zfs-auto-snap:daily-bench
set -euo pipefail
data=${BENCH_ZFS_DATA:?BENCH_ZFS_DATA is not set}
snap=${BENCH_ZFS_SNAPSHOT:?BENCH_ZFS_SNAPSHOT is not set}
dataset=${snap%@*}
last=${*: -1}

case ${1:-} in
  list)
    [[ $last == "$dataset" ]] || { echo "cannot open '$last': dataset does not exist" >&2; exit 1; }
    if [[ " $* " == *" snapshot "* ]]; then
      # name createtxg used referenced creation guid (ZFS_LIST_COLUMNS)
      printf '%s\t1\t0\t0\t1793491200\t1001\n' "$snap"
    elif [[ " $* " != *" bookmark "* ]]; then
      echo "$dataset"
    fi
    ;;
  send)
    [[ $last == "$snap" ]] || { echo "cannot open '$last': dataset does not exist" >&2; exit 1; }
    if [[ " $* " == *" -nvP "* ]]; then
      size=$(stat -c %s "$data")
      printf 'full\t%s\t%s\nsize\t%s\n' "$snap" "$size" "$size"
    else
      exec cat "$data"
    fi
    ;;
  hold | release | holds | bookmark) ;;
  *) echo "bench zfs stand-in: unexpected command: zfs $*" >&2; exit 1 ;;
esac
