# Benchmark statistics, for `awk -F'\t' -f scripts/bench-stats.awk -f <targets> results.tsv`.
# Input: a header line, then rows "case tool round bytes wall_s user_s sys_s maxrss_kib server_s"
# (server_s may be empty or absent). Per case and tool it keeps the median MB/s in M, the median
# CPU s/GiB (user+sys of the process tree) in C, the largest peak RSS in MiB in R and, where the
# rows have it, the median CPU s/GiB of the S3 server on this machine in S (keys: case SUBSEP
# tool, in first-seen order in order[1..n]) and prints them as a table; the targets file's END
# block then reads M, C, R and S and prints its lines with verdict(). The table's first column
# is named `label` ("case" unless set with -v label=…); -v w1=… and -v w2=… set its two name
# columns' widths (8 and 9). Each round's MB/s stays in RM (key: case SUBSEP tool SUBSEP round),
# for rounds(), the spread of two tools' ratio over the rounds they ran side by side.
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
  RM[k SUBSEP $3] = $4 / 1e6 / $5
  cpu[k] = cpu[k] " " ($6 + $7) / ($4 / 1073741824)
  if ($8 + 0 > rss[k] + 0) rss[k] = $8
  if ($9 != "") srv[k] = srv[k] " " $9 / ($4 / 1073741824)
}
END {
  if (label == "") label = "case"
  names = "%-" (w1 ? w1 : 8) "s %-" (w2 ? w2 : 9) "s"
  printf names " %10s %14s %14s%s\n", label, "tool", "MB/s", "CPU s/GiB", "peak RSS MiB", \
    length(srv) ? "   server CPU s/GiB" : ""
  for (i = 1; i <= n; i++) {
    k = order[i]; split(k, name, SUBSEP)
    M[k] = median(mbs[k]); C[k] = median(cpu[k]); R[k] = rss[k] / 1024
    if (k in srv) S[k] = median(srv[k])
    printf names " %10.1f %14.2f %14.0f%s\n", name[1], name[2], M[k], C[k], R[k], \
      (k in S) ? sprintf(" %20.2f", S[k]) : ""
  }
  print ""
}
# ", rounds LO-HIx": the lowest and highest ratio of tool a's MB/s to tool b's in the same round
# (keys as in M), or "" when they shared fewer than two rounds. Why: on a shared machine one
# round can move a median ratio by 0.1, and the spread shows how far to trust it.
function rounds(a, b,   r, x, lo, hi, n) {
  for (r = 1; (a SUBSEP r) in RM; r++) {
    if (!((b SUBSEP r) in RM) || RM[b SUBSEP r] == 0) continue
    x = RM[a SUBSEP r] / RM[b SUBSEP r]
    if (n++ == 0 || x < lo) lo = x
    if (n == 1 || x > hi) hi = x
  }
  return n > 1 ? sprintf(", rounds %.2f-%.2fx", lo, hi) : ""
}
# A target's line: PASS or FAIL, then the text.
function verdict(text, ok) { printf "%s  %s\n", ok ? "PASS" : "FAIL", text }
