/**
 * The grammar of a send stream, one record at a time (pure; the byte-level parser feeds it).
 *
 * A plain stream is one substream: BEGIN (hdrtype SUBSTREAM) … END. `zfs send -R`, `-p` and `-I`
 * write a compound stream (lib/libzfs/libzfs_sendrecv.c): a BEGIN with hdrtype COMPOUNDSTREAM
 * whose payload is a packed nvlist (send_prelim_records), an END carrying that header's checksum,
 * then one substream per snapshot sent, each BEGIN … END, and a final all-zero END
 * (send_conclusion_record; zfs_receive_package stops at the "double end record").
 */
import { HDRTYPE_COMPOUND, HDRTYPE_SUBSTREAM, RECORD_TYPES, type RecordType } from './format.js';
import type { BeginRecord } from './record.js';

/** How many records of each type. */
export type RecordCounts = Record<RecordType, number>;

/** One BEGIN … END substream of a stream. */
export interface SubstreamSummary {
  /** drr_toname of its BEGIN, `pool/fs@snap`. */
  toname: string;
  /** The snapshot it carries (decimal guid). */
  toguid: string;
  /** Its incremental source, "0" for a full. */
  fromguid: string;
  /** Seconds since the epoch. */
  creationTime: number;
  /** Feature flags set in its BEGIN. */
  features: string[];
  /** Its records by type, BEGIN and END included. */
  records: RecordCounts;
  /** Its length in bytes, headers and payloads. */
  bytes: number;
}

/** What the parser knows about one record when it hands it over. */
export interface RecordEvent {
  type: number;
  /** 1-based number of the record in the whole stream. */
  index: number;
  /** Stream offset of its header. */
  offset: number;
  /** Header plus payload. */
  length: number;
  begin?: BeginRecord;
  endToGuid?: string;
}

type Phase = 'start' | 'compound-header' | 'between' | 'substream' | 'done';

/** Tracks where in the grammar the stream is; each method returns an error reason or undefined. */
export class StreamStructure {
  phase: Phase = 'start';
  compound: BeginRecord | undefined;
  readonly substreams: SubstreamSummary[] = [];
  readonly records: RecordCounts = zeroCounts();
  private current: SubstreamSummary | undefined;

  /** Account for one record whose checksums were verified. */
  onRecord(event: RecordEvent): string | undefined {
    const name = RECORD_TYPES[event.type];
    if (name === undefined) {
      return `unknown record type ${event.type} in record ${event.index} at byte ${event.offset}`;
    }
    this.records[name]++;
    if (this.current !== undefined) {
      this.current.records[name]++;
      this.current.bytes += event.length;
    }
    if (name === 'BEGIN') return this.onBegin(event);
    if (name === 'END') return this.onEnd(event);
    if (this.phase === 'substream') return undefined;
    return `unexpected ${name} record ${event.index} at byte ${event.offset} outside a substream`;
  }

  private onBegin(event: RecordEvent): string | undefined {
    const begin = event.begin as BeginRecord;
    const where = `record ${event.index} at byte ${event.offset}`;
    if (this.phase === 'start' && begin.headerType === HDRTYPE_COMPOUND) {
      this.compound = begin;
      this.phase = 'compound-header';
      return undefined;
    }
    if (this.phase !== 'start' && this.phase !== 'between') return `unexpected BEGIN in ${where}`;
    if (begin.headerType !== HDRTYPE_SUBSTREAM) {
      return `unsupported stream header type ${begin.headerType} in ${where}`;
    }
    this.current = { ...begin, records: zeroCounts(), bytes: event.length };
    this.current.records.BEGIN = 1;
    this.phase = 'substream';
    return undefined;
  }

  private onEnd(event: RecordEvent): string | undefined {
    const isUserlandEnd = this.phase === 'compound-header' || this.phase === 'between';
    if (isUserlandEnd && event.endToGuid !== '0') {
      return `END record ${event.index} of the compound stream names guid ${event.endToGuid}, not 0`;
    }
    switch (this.phase) {
      case 'compound-header':
        this.phase = 'between';
        return undefined;
      case 'between':
        this.phase = 'done';
        return this.substreams.length > 0 ? undefined : 'compound stream holds no substream';
      case 'substream': {
        const current = this.current as SubstreamSummary;
        this.substreams.push(current);
        this.current = undefined;
        this.phase = this.compound === undefined ? 'done' : 'between';
        // ZFS before drr_end.drr_toguid existed (2008 and older) left it 0; zfs receive ignores it
        if (event.endToGuid === current.toguid || event.endToGuid === '0') return undefined;
        return `END record ${event.index} closes guid ${event.endToGuid}, its BEGIN opened ${current.toguid}`;
      }
      case 'start':
      case 'done':
        return `unexpected END in record ${event.index} at byte ${event.offset}`;
    }
  }

  /**
   * The guids of the stream as a whole: for a compound stream, those of its top dataset's
   * substreams (the first one's source, and the one named in the header, else the last).
   */
  endpoints(): { toname: string; toguid: string; fromguid: string } | undefined {
    const first = this.substreams[0];
    if (this.compound === undefined || first === undefined) return first;
    const toname = this.compound.toname;
    const dataset = datasetOf(toname);
    const top = this.substreams.filter((s) => datasetOf(s.toname) === dataset);
    const last = top.find((s) => s.toname === toname) ?? top.at(-1);
    if (top[0] === undefined || last === undefined) return undefined;
    return { toname, toguid: last.toguid, fromguid: top[0].fromguid };
  }
}

function datasetOf(toname: string): string {
  return toname.split('@')[0] ?? toname;
}

function zeroCounts(): RecordCounts {
  return Object.fromEntries(RECORD_TYPES.map((t) => [t, 0])) as RecordCounts;
}
