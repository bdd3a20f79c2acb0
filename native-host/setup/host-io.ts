// The two things install, uninstall and doctor do to the machine, as parameters: run a command
// (reg.exe on Windows) and touch files. The real ones act; tests pass recording ones, which is how
// the Windows steps are checked on machines that cannot run Windows.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

/** Runs a program with arguments, returns its stdout; throws when it cannot start or exits non-zero. */
export type Runner = (command: string, args: string[]) => string;

export const realRunner: Runner = (command, args) =>
  execFileSync(command, args, { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] });

/** The file operations install and uninstall use. */
export interface FileOps {
  exists(p: string): boolean;
  readFile(p: string): string;
  /** Writes the file and sets its mode (also when it existed before). */
  writeFile(p: string, text: string, mode: number): void;
  /** Creates one folder (its parent exists). */
  mkdir(p: string): void;
  rm(p: string): void;
  /** Removes an empty folder; throws when it is not empty. */
  rmdir(p: string): void;
}

export const realFiles: FileOps = {
  exists: (p) => fs.existsSync(p),
  readFile: (p) => fs.readFileSync(p, 'utf8'),
  writeFile(p, text, mode) {
    fs.writeFileSync(p, text, { mode });
    fs.chmodSync(p, mode); // an existing file keeps its old mode otherwise
  },
  mkdir: (p) => fs.mkdirSync(p),
  rm: (p) => fs.rmSync(p, { force: true }),
  rmdir: (p) => fs.rmdirSync(p),
};
