// The user's home folder, one rule for the whole host: $HOME (which tests and a user may point
// elsewhere), then what the system says. On Windows %USERPROFILE% comes first, as OpenSSH for
// Windows reads %USERPROFILE%\.ssh whatever HOME says (Git Bash and MSYS set HOME for their own).

import os from 'node:os';

export function homeDir(
  env: NodeJS.ProcessEnv | Record<string, string | undefined> = process.env,
  platform: NodeJS.Platform = process.platform,
): string {
  if (platform === 'win32') return env.USERPROFILE || env.HOME || os.homedir();
  return env.HOME || env.USERPROFILE || os.homedir();
}
