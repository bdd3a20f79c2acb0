// Builds the g5k-tunnel command as one ES module (dist/native-host/command/g5k-tunnel.js) from the
// compiled dist/native-host/cli/main.js: Node then reads and compiles one file instead of about a
// hundred, which is most of the command's start-up. The parts loaded only when used (ssh2's engine,
// doctor, install, --version) stay separate chunks beside it; ssh2 and Node's modules stay outside.
// The folder has the depth of dist/native-host/cli/, so the modules' `new URL('../..', import.meta.url)`
// (package.json, the host's launcher) point where they did.
// Usage: node scripts/build-command.mjs (after tsc)

import path from 'node:path';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'dist', 'native-host', 'command');
const external = [/^node:/, ...builtinModules, /^ssh2(\/|$)/];

await build({
  root,
  configFile: false,
  logLevel: 'warn',
  publicDir: false,
  build: {
    outDir: out,
    emptyOutDir: true,
    ssr: true,
    target: 'node20',
    sourcemap: false,
    minify: false,
    rolldownOptions: {
      // the tunnel is an entry of its own so that bin/g5k-tunnel can start loading it beside the command
      input: {
        'g5k-tunnel': path.join(root, 'dist', 'native-host', 'cli', 'main.js'),
        tunnel: path.join(root, 'dist', 'native-host', 'tunnel', 'tunnel.js'),
      },
      external,
      output: { format: 'esm', entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' },
    },
  },
});
