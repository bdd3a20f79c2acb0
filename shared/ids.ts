// Identities the extension and the host installer must agree on.

/** Firefox add-on id (browser_specific_settings.gecko.id). */
export const GECKO_ID = 'g5k-tunnel@g5k-tunnel.github.io';

/** Public key of the unpacked Chromium build ("key" in manifest.json): it fixes the extension id. */
export const CHROMIUM_KEY =
  'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAtMnwJZW1qbkEHzHuT0AT9v6V0Dp6UZe3DTNBIwEXHfM13Vaj2ofaL224PALjQq6k1SkbsCJvPoEqdWBWLM5wGXAWnUGbMKy1hDw6tgBh4ZB5AnoI0GcsMHmtQnBKYMlb/F3QAVKQtUmkO7pc6YUeAJ1vLBRbYWqIlLmMWq+XB5j83MSb1TW9fo67DXT7aoFTS54goT+qGnyJL/eq7jICZPaYot+PcNFVx2NpJRGPg+ZBJLywoPOoea6rAGBHy5HTCpvrJw0PzVENIo5WglBEtG6h8Gd9WKdrZWOi/I3zor7apFLr/qoUscfefVpNCpDRKMjh8mbW9IuQfpGdnjOYnQIDAQAB';

/** The Chromium extension id derived from CHROMIUM_KEY (sha256 of the DER key, 0-f mapped to a-p). */
export const CHROMIUM_ID = 'koolnjbkpcgghpokcmbibabdkklmfaek';

/** Extension ids the native host manifest allows: the unpacked build, plus store ids when published. */
export const CHROMIUM_ALLOWED_IDS = [CHROMIUM_ID];
