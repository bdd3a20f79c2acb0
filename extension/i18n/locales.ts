// Every language of the extension, by _locales folder name: the build writes each messages.json.
// To add a language: a new <lang>.ts typed `Messages` (like fr.ts), then one line here.

import { en, type Messages } from './en.js';
import { fr } from './fr.js';

export const DEFAULT_LOCALE = 'en';

export const LOCALES: Record<string, Messages> = { en, fr };
