/** The exit-code table printed at the end of every `--help`, kept beside EXIT in one place. */
export const EXIT_CODES_HELP = `
Exit codes:
  0    success (also: nothing to do)
  1    internal error (run again with --debug for a stack trace)
  2    usage or configuration error (bad option, bad config value, missing BUCKET, a dataset
       that does not exist, an empty KEY, a needed program such as zfs or pigz not installed);
       z3 backup: another backup of the same dataset and target is running (see --wait), or an
       incremental would change its chain's raw/compressed send mode (start one with --full)
  3    integrity error: a backup chain is broken (missing parent, cycle, a segment missing) or
       diverged, or the incremental's local base is not the snapshot backed up (another
       guid); nothing was run (status: exits 3 after printing the table when any backup is
       broken); z3 verify: a backup is unsound (its row says why)
  4    an external command failed (zfs send/receive, compressor, ssh); the upload was aborted;
       or standard output could not be written (not EPIPE: a reader that left is no error)
  5    storage error: the S3 server refused or failed a request
  130  interrupted (SIGINT/SIGTERM); uploads in flight were aborted
z3 status --check exits as a monitoring plugin instead: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN
With --all or --recursive: the highest code of the datasets run.
`;
