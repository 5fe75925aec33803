# Benchmark statistics, for `awk -F'\t' -f scripts/bench-stats.awk -f <targets> results.tsv`.
# Input: a header line, then rows "case tool round bytes wall_s user_s sys_s maxrss_kib". Per
# case and tool it keeps the median MB/s in M, the median CPU s/GiB (user+sys of the process
# tree) in C and the largest peak RSS in MiB in R (keys: case SUBSEP tool, in first-seen order in
# order[1..n]) and prints them as a table; the targets file's END block then reads M, C and R.
function median(list,   n, v, i, j, t) {
  n = split(list, v, " ")
  for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) {
    t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
  }
  return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
NR == 1 { next }
{
  k = $1 SUBSEP $2
  if (!(k in seen)) { seen[k] = 1; order[++n] = k }
  mbs[k] = mbs[k] " " $4 / 1e6 / $5
  cpu[k] = cpu[k] " " ($6 + $7) / ($4 / 1073741824)
  if ($8 + 0 > rss[k] + 0) rss[k] = $8
}
END {
  printf "%-8s %-9s %10s %14s %14s\n", "case", "tool", "MB/s", "CPU s/GiB", "peak RSS MiB"
  for (i = 1; i <= n; i++) {
    k = order[i]; split(k, p, SUBSEP)
    M[k] = median(mbs[k]); C[k] = median(cpu[k]); R[k] = rss[k] / 1024
    printf "%-8s %-9s %10.1f %14.2f %14.0f\n", p[1], p[2], M[k], C[k], R[k]
  }
  print ""
}
