// Who holds the browser's proxy settings, from `proxy.settings.get()`'s `levelOfControl` (the same
// values in Chromium and Firefox), and which warning the popup shows for it. Pure, unit-tested.

/**
 * `other-extension`: another extension set the proxy after us (disabling it gives it back).
 * `policy`: an enterprise policy holds it; no extension can change it, only the administrator.
 * null: ours to set (`controllable_by_this_extension`, `controlled_by_this_extension`), or unknown.
 */
type ProxyHolder = 'other-extension' | 'policy' | null;

export function proxyHolder(levelOfControl: unknown): ProxyHolder {
  if (levelOfControl === 'controlled_by_other_extensions') return 'other-extension';
  if (levelOfControl === 'not_controllable') return 'policy';
  return null;
}

/** The popup's proxy boxes: at most one shows, the policy's when both are somehow said. */
export function proxyWarnings(v: { proxyConflict: boolean; proxyPolicy: boolean }): {
  conflict: boolean;
  policy: boolean;
} {
  return { conflict: v.proxyConflict && !v.proxyPolicy, policy: v.proxyPolicy };
}
