// The user's home folder, one rule for the whole host: $HOME (which tests and a user may point
// elsewhere), then %USERPROFILE% on Windows, then what the system says.

import os from 'node:os';

export function homeDir(env: NodeJS.ProcessEnv | Record<string, string | undefined> = process.env): string {
  return env.HOME || env.USERPROFILE || os.homedir();
}
