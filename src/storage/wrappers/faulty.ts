/**
 * A fault-injecting wrapper for tests: it records every call made to the backend and lets a
 * script fail or hold any of them, before (or, for `complete`, after) the real call. It wraps
 * any backend, so the same fault runs against memory in the unit tier and against a real
 * server in the integration tier.
 */
import type {
  Backend,
  ChunkDigestAlgorithm,
  BackendFeatures,
  ChunkWriter,
  CommittedObject,
  ListOptions,
  ListedChunk,
  ListedObject,
  ObjectInfo,
  OpenWriterInput,
  PendingWrite,
  PutInput,
  ReadRangeInput,
  ResumeWriterInput,
  WriteChunkInput,
  WrittenChunk,
} from '../backend.js';

export type FaultOp =
  | 'stat'
  | 'statBulk'
  | 'list'
  | 'readRange'
  | 'remove'
  | 'put'
  | 'openWriter'
  | 'writeChunk'
  | 'complete'
  | 'abort'
  | 'listPending'
  | 'abortPending'
  | 'listChunks'
  | 'resumeWriter';

/** One call as the script sees it. */
export interface FaultCall {
  op: FaultOp;
  key: string;
  /** writeChunk: the chunk number. */
  chunk?: number;
  /** readRange: the first byte. */
  start?: number;
  /** How many times this op was called for this key (and chunk or start), 1-based. */
  attempt: number;
  /** The call's abort signal, where it has one. */
  signal?: AbortSignal | undefined;
  /** True for the check after a successful `complete` or `put` (the object is already committed). */
  isAfter?: boolean;
}

/**
 * Called before every call (and after a successful complete or put, with `isAfter`): throw to fail
 * the call, return a promise to hold it. Return nothing to let it through.
 */
export type FaultScript = (call: FaultCall) => void | Promise<void>;

/** `inner` with `script` applied to each call; `calls` records them in order. */
export class FaultyBackend implements Backend {
  readonly kind: string;
  readonly location: string;
  readonly limits: Backend['limits'];
  readonly features: BackendFeatures;
  readonly calls: FaultCall[] = [];
  /** How many calls the script failed (threw for): the faults this wrapper injected. */
  thrown = 0;
  private readonly counts = new Map<string, number>();

  constructor(
    readonly inner: Backend,
    public script: FaultScript = () => undefined,
  ) {
    this.kind = `faulty ${inner.kind}`;
    this.location = inner.location;
    this.limits = inner.limits;
    const statBulk = inner.features.statBulk;
    this.features = {
      ...inner.features,
      statBulk:
        statBulk === undefined
          ? undefined
          : async (key: string) => {
              await this.hit({ op: 'statBulk', key });
              return statBulk(key);
            },
    };
  }

  /** The calls of one op, e.g. `ops('writeChunk')`. */
  ops(op: FaultOp): FaultCall[] {
    return this.calls.filter((c) => c.op === op);
  }

  /** Record the call and run the script on it. */
  async hit(call: Omit<FaultCall, 'attempt'>): Promise<void> {
    const id = `${call.op} ${call.key} ${call.chunk ?? call.start ?? ''} ${call.isAfter === true}`;
    const attempt = (this.counts.get(id) ?? 0) + 1;
    this.counts.set(id, attempt);
    const full: FaultCall = { ...call, attempt };
    this.calls.push(full);
    try {
      await this.script(full);
    } catch (error) {
      this.thrown += 1;
      throw error;
    }
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    await this.hit({ op: 'stat', key });
    return this.inner.stat(key);
  }

  async *list(prefix: string, options?: ListOptions): AsyncIterable<ListedObject> {
    await this.hit({ op: 'list', key: prefix });
    yield* this.inner.list(prefix, options);
  }

  async readRange(input: ReadRangeInput): Promise<Uint8Array> {
    const { key, start, signal } = input;
    await this.hit({ op: 'readRange', key, start, signal });
    return this.inner.readRange(input);
  }

  async remove(key: string): Promise<void> {
    await this.hit({ op: 'remove', key });
    return this.inner.remove(key);
  }

  async put(input: PutInput): Promise<CommittedObject> {
    await this.hit({ op: 'put', key: input.key, signal: input.signal });
    const committed = await this.inner.put(input);
    await this.hit({ op: 'put', key: input.key, isAfter: true });
    return committed;
  }

  async openWriter(input: OpenWriterInput): Promise<ChunkWriter> {
    await this.hit({ op: 'openWriter', key: input.key });
    return new FaultyWriter(await this.inner.openWriter(input), this);
  }

  async listPending(prefix: string): Promise<PendingWrite[]> {
    await this.hit({ op: 'listPending', key: prefix });
    return this.inner.listPending(prefix);
  }

  async abortPending(pending: Pick<PendingWrite, 'key' | 'id'>): Promise<void> {
    await this.hit({ op: 'abortPending', key: pending.key });
    return this.inner.abortPending(pending);
  }

  async listChunks(pending: Pick<PendingWrite, 'key' | 'id'>): Promise<ListedChunk[]> {
    await this.hit({ op: 'listChunks', key: pending.key });
    return this.inner.listChunks(pending);
  }

  async resumeWriter(input: ResumeWriterInput): Promise<ChunkWriter> {
    await this.hit({ op: 'resumeWriter', key: input.key });
    return new FaultyWriter(await this.inner.resumeWriter(input), this);
  }
}

class FaultyWriter implements ChunkWriter {
  readonly key: string;
  readonly id: string;
  readonly digest: ChunkDigestAlgorithm;

  constructor(
    private readonly inner: ChunkWriter,
    private readonly backend: FaultyBackend,
  ) {
    this.key = inner.key;
    this.id = inner.id;
    this.digest = inner.digest;
  }

  async writeChunk(input: WriteChunkInput): Promise<WrittenChunk> {
    const { number: chunk, signal } = input;
    await this.backend.hit({ op: 'writeChunk', key: this.key, chunk, signal });
    return this.inner.writeChunk(input);
  }

  async complete(chunks: readonly WrittenChunk[]): Promise<CommittedObject> {
    await this.backend.hit({ op: 'complete', key: this.key });
    const committed = await this.inner.complete(chunks);
    await this.backend.hit({ op: 'complete', key: this.key, isAfter: true });
    return committed;
  }

  async abort(): Promise<void> {
    await this.backend.hit({ op: 'abort', key: this.key });
    return this.inner.abort();
  }
}
