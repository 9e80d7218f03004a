// Messages between the main thread's stage writer and the hash thread (hash-worker.ts).

export type HashRequest = { seq: number; id: number } & (
  /** a new hash for put `id`: of the first `prefix` bytes of the file at `path` (a resumed partial), or empty */
  | { op: 'start'; path: string; prefix: number }
  /**
   * add bytes, in order: ranges [offset, offset + length) of the shared slab memory (numbers), or
   * copies handed over (ArrayBuffers, transferred)
   */
  | { op: 'update'; parts: Array<[number, number] | ArrayBuffer> }
  /** the hex digest so far (the hash goes on) */
  | { op: 'digest' }
  | { op: 'end' }
);

export interface HashReply {
  seq: number;
  digest?: string;
  error?: string;
}
