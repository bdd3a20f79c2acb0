// Public-key login, keys only, in OpenSSH's order: ssh-agent keys first, then identity files.
//
// All identities sit behind ONE ssh2 agent object (`Identities`): ssh2 then offers each PUBLIC key
// to the server first and asks us to sign only when the server would accept it. So, like OpenSSH,
// a passphrase is asked only for a key the gateway actually takes, and never for the others. The
// one exception (login.ts): a key that signs without the user may be signed with at once.
// Decrypted keys live in a `KeyCache` (memory only) shared by reconnections and pooled connections;
// nothing secret is ever logged or written anywhere.

import fs from 'node:fs';
import ssh2 from 'ssh2';
import type { ParsedKey, SignCallback, SigningRequestOptions, IdentityCallback } from 'ssh2';
import { makeError } from '../../shared/errors.js';
import type { ProtocolError } from '../../shared/protocol.js';
import type { Logger } from '../log.js';
import { agentFor } from './agent.js';
import type { AuthPlan } from './auth-plan.js';
import { type AskPassphrase, firstKey, type KeyCache, MAX_PASSPHRASE_ATTEMPTS, type Unlock } from './key-cache.js';
import { checkKeyPermissions, keyPermissionsError, unprotectedKeyLog, type LocalUser } from './key-permissions.js';
import { keyFingerprint, publicBlobOf, publicFromOpensshPrivate, publicOf, readPublicFile } from './public-key.js';

export { KeyCache } from './key-cache.js';
export { type AuthPlan, DEFAULT_IDENTITY_NAMES } from './auth-plan.js';

const { BaseAgent, OpenSSHAgent, utils } = ssh2;

/** What happened during one login, to explain a failure. */
export interface AuthReport {
  offered: string[];
  declined: string[];
  wrongPassphrase: string[];
  unreadable: { file: string; reason: string; explicit: boolean }[];
  /** Key files others can access, ignored as OpenSSH ignores them (none of their keys was offered). */
  unprotected: { file: string; mode: number }[];
  agentError?: string;
}

interface Entry {
  pub: ParsedKey;
  blob: Buffer;
  label: string;
  source: { kind: 'agent' } | { kind: 'file'; path: string; stamp: string; data: Buffer; plain?: ParsedKey };
}

/** A key file ignored for its permissions, with its public half when that is readable without it. */
interface Unprotected {
  path: string;
  mode: number;
  blob: Buffer | null;
}

interface IdentityHooks {
  ask: AskPassphrase;
  /** Called around a user prompt, so that handshake timers can pause. */
  promptStarted?(): void;
  promptEnded?(): void;
  log: Logger;
  /** Whose key files may be used; this process's user by default. */
  localUser?: LocalUser;
  /** Where this login goes (user@host:port): the key that logs in is remembered under it. */
  target?: string;
}

/** An encrypted key file whose public half is nowhere but inside it: its passphrase is needed to offer it. */
interface Locked {
  locked: { path: string; stamp: string; data: Buffer };
}

const thisUser = (): LocalUser => ({ platform: process.platform, uid: process.getuid?.() });

/**
 * Every identity of one login, as one ssh2 agent. Build a new one per connection attempt
 * (its report describes that attempt); share the KeyCache.
 */
export class Identities extends BaseAgent<ParsedKey> {
  readonly report: AuthReport = { offered: [], declined: [], wrongPassphrase: [], unreadable: [], unprotected: [] };
  private entries: Entry[] | null = null;
  private scanning: Promise<(Entry | Unprotected | Locked)[]> | null = null;
  private loading: Promise<Entry[]> | null = null;
  /** The key of the last signature given, to remember once the login succeeds. */
  private lastSigned: Buffer | null = null;
  private readonly agent: InstanceType<typeof OpenSSHAgent> | null;

  constructor(
    private readonly plan: AuthPlan,
    private readonly cache: KeyCache,
    private readonly hooks: IdentityHooks,
  ) {
    super();
    this.agent = plan.agentSocket ? agentFor(plan.agentSocket) : null;
  }

  /** Reads the key files and asks the agent for its keys now (never asking the user anything), so
   *  that this is done while the connection is being made. */
  prefetch(): void {
    this.scan().catch(() => {});
  }

  /**
   * True for the one key worth signing with before the server says it would take it: the key that
   * logged in to this target before, else the first key offered when it is an identity file whose
   * private half is at hand without asking. Agent keys are asked about first on a first login, as
   * OpenSSH does: the agent may ask its user to confirm each signature.
   */
  signsAtOnce(pub: ParsedKey): boolean {
    const entries = this.entries;
    if (!entries?.length) return false;
    const blob = pub.getPublicSSH();
    const entry = entries.find((e) => e.blob.equals(blob));
    if (!entry) return false;
    const unattended =
      entry.source.kind === 'agent' ||
      Boolean(entry.source.plain ?? this.cache.get(entry.source.path, entry.source.stamp));
    const known = this.hooks.target ? this.cache.loginKey(this.hooks.target) : undefined;
    if (known) return unattended && known.equals(blob);
    return unattended && entry === entries[0] && entry.source.kind === 'file';
  }

  /** The login succeeded: remember which key it took, for the next login to the same target. */
  loggedIn(): void {
    if (this.hooks.target && this.lastSigned) this.cache.rememberLogin(this.hooks.target, this.lastSigned);
  }

  override getIdentities(cb: IdentityCallback<ParsedKey>): void {
    this.load().then(
      (entries) => {
        this.report.offered = entries.map((e) => e.label);
        cb(
          null,
          entries.map((e) => e.pub),
        );
      },
      (err: Error) => cb(err),
    );
  }

  override sign(
    pubKey: ParsedKey,
    data: Buffer,
    options: SigningRequestOptions | SignCallback,
    cb?: SignCallback,
  ): void {
    const done = (typeof options === 'function' ? options : cb) as SignCallback;
    const opts = typeof options === 'function' ? {} : (options ?? {});
    const blob = pubKey.getPublicSSH();
    const entry = this.entries?.find((e) => e.blob.equals(blob));
    if (!entry) return done(new Error('unknown key'));
    this.lastSigned = entry.blob;
    if (entry.source.kind === 'agent') {
      this.agent!.sign(pubKey, data, opts, done);
      return;
    }
    this.privateKey(entry).then(
      (key) => {
        if (!key) return done(markSkip(new Error(`no usable private key in ${entry.label}`)));
        const sig = key.sign(data, opts.hash);
        if (sig instanceof Error) return done(markSkip(sig));
        done(undefined, sig);
      },
      (err: Error) => done(markSkip(err)),
    );
  }

  /** Every file read and the agent asked, concurrently: what needs no answer from the user. */
  private scan(): Promise<(Entry | Unprotected | Locked)[]> {
    const files = async () => {
      const out: (Entry | Unprotected | Locked)[] = [];
      // one after the other, so that what the report lists is in the files' order
      for (const f of this.plan.files) {
        const e = await this.loadFile(f.path, f.explicit);
        if (e) out.push(e);
      }
      return out;
    };
    this.scanning ??= Promise.all([this.agentKeys(), files()]).then(([agent, fromFiles]) => [...agent, ...fromFiles]);
    return this.scanning;
  }

  private load(): Promise<Entry[]> {
    this.loading ??= this.finishLoad();
    return this.loading;
  }

  private async agentKeys(): Promise<Entry[]> {
    if (!this.agent) return [];
    try {
      const keys = await new Promise<ParsedKey[]>((resolve, reject) =>
        this.agent!.getIdentities((err, keys) => (err ? reject(err) : resolve((keys ?? []) as ParsedKey[]))),
      );
      return keys.map((k) => {
        const blob = k.getPublicSSH();
        return {
          pub: k,
          blob,
          label: `agent key ${k.type} ${keyFingerprint(blob)}${k.comment ? ` (${k.comment})` : ''}`,
          source: { kind: 'agent' as const },
        };
      });
    } catch (err) {
      this.report.agentError = (err as Error).message;
      this.hooks.log.debug(`ssh-agent at ${this.plan.agentSocket}: ${(err as Error).message}`);
      return [];
    }
  }

  private async finishLoad(): Promise<Entry[]> {
    const scanned = await this.scan();
    const fromFiles: Entry[] = [];
    const unprotected: Unprotected[] = [];
    let fromAgent: Entry[] = [];
    for (const e of scanned) {
      if ('mode' in e) unprotected.push(e);
      else if ('locked' in e) {
        // an old PEM key without its .pub: the passphrase is needed just to know the key
        const { path, stamp, data } = e.locked;
        const key = await this.unlock(path, stamp, data);
        if (key) fromFiles.push(this.entry(publicOf(key), path, { kind: 'file', path, stamp, data }));
      } else if (e.source.kind === 'agent') fromAgent.push(e);
      else fromFiles.push(e);
    }
    if (this.plan.identitiesOnly)
      fromAgent = fromAgent.filter((a) => [...fromFiles, ...unprotected].some((f) => f.blob?.equals(a.blob)));
    // a key file others can access is ignored, as by OpenSSH, which never reads it when the agent holds its key
    for (const u of unprotected) {
      if (fromAgent.some((a) => u.blob?.equals(a.blob))) continue;
      this.report.unprotected.push({ file: u.path, mode: u.mode });
      this.hooks.log.warn(unprotectedKeyLog(u.path, u.mode));
    }
    // the agent signs its own keys; a file holding the same key is not offered twice
    const files = fromFiles.filter((f) => !fromAgent.some((a) => a.blob.equals(f.blob)));
    const seen = new Set<string>();
    this.entries = [...fromAgent, ...files].filter((e) => {
      const k = e.blob.toString('base64');
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
    return this.entries;
  }

  private async loadFile(path: string, explicit: boolean): Promise<Entry | Unprotected | Locked | null> {
    let data: Buffer;
    let stamp: string;
    let perm: ReturnType<typeof checkKeyPermissions>;
    try {
      const st = await fs.promises.stat(path);
      if (!st.isFile()) throw new Error('not a regular file');
      data = await fs.promises.readFile(path);
      stamp = `${st.mtimeMs}:${st.size}`;
      perm = checkKeyPermissions(path, st, this.hooks.localUser ?? thisUser());
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      // OpenSSH silently skips default and configured files that do not exist
      if (explicit || e.code !== 'ENOENT')
        this.report.unreadable.push({ file: path, reason: e.code === 'ENOENT' ? 'no such file' : e.message, explicit });
      return null;
    }
    const parsed = firstKey(utils.parseKey(data));
    if (!(parsed instanceof Error) && !parsed.isPrivateKey()) {
      this.report.unreadable.push({ file: path, reason: 'this is a public key, not a private key', explicit });
      return null;
    }
    // its public half (never its private key) may still match an agent key, for IdentitiesOnly
    if (!perm.ok) {
      const blob = parsed instanceof Error ? await publicBlobOf(data, path) : parsed.getPublicSSH();
      return { path, mode: perm.mode, blob };
    }
    const source = { kind: 'file' as const, path, stamp, data };
    const cached = this.cache.get(path, stamp);
    if (cached) return this.entry(publicOf(cached), path, source);
    if (!(parsed instanceof Error)) return this.entry(publicOf(parsed), path, { ...source, plain: parsed });
    if (!/passphrase/i.test(parsed.message)) {
      this.report.unreadable.push({ file: path, reason: parsed.message, explicit });
      return null;
    }
    // encrypted: find the public half without the passphrase (OpenSSH format, else the .pub file)
    const pub = publicFromOpensshPrivate(data.toString('utf8')) ?? (await readPublicFile(`${path}.pub`));
    if (pub) return this.entry(pub, path, source);
    return { locked: { path, stamp, data } };
  }

  private entry(pub: ParsedKey, path: string, source: Entry['source']): Entry {
    return { pub, blob: pub.getPublicSSH(), label: path, source };
  }

  private async privateKey(entry: Entry): Promise<ParsedKey | null> {
    if (entry.source.kind !== 'file') return null;
    if (entry.source.plain) return entry.source.plain;
    return this.unlock(entry.source.path, entry.source.stamp, entry.source.data);
  }

  private async unlock(path: string, stamp: string, data: Buffer): Promise<ParsedKey | null> {
    const cached = this.cache.get(path, stamp);
    if (cached) return cached;
    this.hooks.promptStarted?.();
    let result: Unlock;
    try {
      result = await this.cache.unlock(path, stamp, data, this.hooks.ask);
    } finally {
      this.hooks.promptEnded?.();
    }
    if (result === 'declined') {
      this.report.declined.push(path);
      this.hooks.log.info(`passphrase for ${path} not given`);
      return null;
    }
    if (result === 'wrong') {
      this.report.wrongPassphrase.push(path);
      this.hooks.log.warn(`wrong passphrase for ${path} (${MAX_PASSPHRASE_ATTEMPTS} attempts)`);
      return null;
    }
    return result;
  }
}

/** Errors from our own signing that only mean "try the next key" (ssh2 reports them as 'agent' errors). */
function markSkip(err: Error): Error {
  return Object.assign(err, { skipKey: true });
}

/** The error to show when the login did not succeed, from what was tried. */
export function authFailure(report: AuthReport, hop: string): ProtocolError {
  if (report.declined.length)
    return makeError('PASSPHRASE_NEEDED', `${hop}: no passphrase given for ${report.declined.join(', ')}`);
  if (report.wrongPassphrase.length)
    return makeError(
      'PASSPHRASE_NEEDED',
      `${hop}: wrong passphrase for ${report.wrongPassphrase.join(', ')} (${MAX_PASSPHRASE_ATTEMPTS} attempts)`,
      'The passphrase of your SSH key was wrong.',
    );
  // a key the user meant to log in with was ignored: making it private is the fix, whatever else was tried
  if (report.unprotected.length) return keyPermissionsError(report.unprotected, hop, report.offered);
  const unreadable = report.unreadable.map((u) => `${u.file}: ${u.reason}`).join('; ');
  // a key file the user named and we cannot use is the thing to fix, whatever else was tried
  if (report.unreadable.some((u) => u.explicit) || (report.offered.length === 0 && report.unreadable.length))
    return makeError('KEY_UNREADABLE', `${hop}: ${unreadable}`);
  if (report.offered.length === 0)
    return makeError(
      'NO_IDENTITY',
      `${hop}: ${report.agentError ? `ssh-agent: ${report.agentError}; ` : ''}no identity file found`,
    );
  const detail = `${hop} refused every key offered: ${report.offered.join(', ')}${unreadable ? `; not readable: ${unreadable}` : ''}`;
  return makeError('AUTH_FAILED', detail);
}
