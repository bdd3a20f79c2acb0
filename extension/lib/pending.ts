// Requests to the native host, matched to their responses by id, each with a deadline.
// Ids keep increasing across port reconnections so a late answer from an old port never matches.

import { makeError, type ErrorCode } from '../../shared/errors.js';
import type { ProtocolError, Response } from '../../shared/protocol.js';
import { t } from '../i18n/t.js';

export class RequestError extends Error {
  constructor(readonly error: ProtocolError) {
    super(error.message);
  }
  get code(): ErrorCode {
    return this.error.code;
  }
}

interface Entry {
  type: string;
  resolve(v: unknown): void;
  reject(e: RequestError): void;
  timer: ReturnType<typeof setTimeout>;
}

export class PendingRequests {
  private nextId = 1;
  private readonly open = new Map<number, Entry>();

  /** Reserves an id; the promise settles with the response, or fails with TIMEOUT after `timeoutMs`. */
  add(type: string, timeoutMs: number): { id: number; promise: Promise<unknown> } {
    const id = this.nextId++;
    const promise = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.open.delete(id);
        reject(
          new RequestError(
            makeError(
              'TIMEOUT',
              `no answer to ${type} within ${Math.round(timeoutMs / 1000)} s`,
              t('error_host_no_answer'),
            ),
          ),
        );
      }, timeoutMs);
      this.open.set(id, { type, resolve, reject, timer });
    });
    return { id, promise };
  }

  /** Settles the request a response answers; false when none waits for it (late or unknown id). */
  settle(res: Response): boolean {
    if (res.id === null) return false;
    const e = this.open.get(res.id);
    if (!e) return false;
    this.open.delete(res.id);
    clearTimeout(e.timer);
    if (res.ok) e.resolve(res.result);
    else e.reject(new RequestError(res.error));
    return true;
  }

  /** Fails every open request (the port closed). */
  failAll(error: ProtocolError): void {
    for (const [id, e] of this.open) {
      clearTimeout(e.timer);
      this.open.delete(id);
      e.reject(new RequestError(error));
    }
  }

  get size(): number {
    return this.open.size;
  }
}
