// A first profile for a first run: asks the native host what ~/.ssh/config, the agent and
// known_hosts say (`propose-profile`), once it has answered hello and only if it says it can.

import { isProfileProposal, type ProfileProposal } from '../../shared/protocol.js';
import type { Controller } from './controller.js';

/** How long a page opened while the host starts waits for its hello. */
const HOST_WAIT_MS = 10_000;

/** The host's proposal, or null when the host is away or too old to make one. */
export async function askProfileProposal(controller: Controller): Promise<ProfileProposal | null> {
  await hostSettled(controller);
  const client = controller.client;
  if (!client.capabilities.includes('propose-profile')) return null;
  const result = await client.request('propose-profile', {});
  return isProfileProposal(result) ? result : null;
}

/** Resolves once the host answered hello, is known to be away, or after HOST_WAIT_MS. */
function hostSettled(controller: Controller): Promise<void> {
  if (controller.client.isReady) return Promise.resolve();
  return new Promise((resolve) => {
    let unsubscribe = () => {};
    const done = () => {
      clearTimeout(timer);
      unsubscribe();
      resolve();
    };
    const timer = setTimeout(done, HOST_WAIT_MS);
    // every change of the host (ready, or a problem) reaches the subscribers
    unsubscribe = controller.subscribe((v) => {
      if (controller.client.isReady || v.hostProblem) done();
    });
  });
}
