/**
 * What a password must be (pure): at least 12 characters, not blank, not one or a few characters
 * repeated or a keyboard/alphabet run, not one of the passwords every attacker tries first (French
 * and English, with digits or symbols added at the end), and not the account's e-mail address.
 * Length beats composition rules: a passphrase of ordinary words passes, "Azerty123456!" does not.
 */
import { defineErrors, type Text } from '../i18n/index.ts';

const E = defineErrors('password-policy', {
  password_length: { fr: "un mot de passe compte au moins 12 caractères", en: "a password has at least 12 characters" },
  password_blank: { fr: "un mot de passe ne peut pas être fait que d’espaces", en: "a password cannot be only spaces" },
  password_repetitive: {
    fr: "ce mot de passe répète trop peu de caractères différents ou suit le clavier : choisissez plutôt quelques mots sans rapport",
    en: "this password repeats too few different characters or follows the keyboard: use a few unrelated words instead",
  },
  password_common: { fr: "ce mot de passe fait partie des plus courants : choisissez-en un autre", en: "this password is one of the most common ones: choose another" },
  password_email: { fr: "le mot de passe ne doit pas reprendre l’adresse e-mail", en: "the password must not contain the email address" },
});

export const MIN_PASSWORD_LENGTH = 12;

/** The passwords tried first (from public leak top lists, French and English), lower case. */
const COMMON = new Set([
  'password', 'passw0rd', 'p@ssw0rd', 'p@ssword', 'motdepasse', 'mot2passe', 'azerty', 'azertyuiop', 'azertyuiop^$', 'qwerty', 'qwertyuiop',
  'qwertz', 'iloveyou', 'jetaime', 'admin', 'administrator', 'administrateur', 'welcome', 'bienvenue', 'letmein', 'changeme', 'secret',
  'soleil', 'doudou', 'chouchou', 'loulou', 'chocolat', 'marseille', 'football', 'sunshine', 'princess', 'princesse', 'dragon',
  'monkey', 'master', 'shadow', 'superman', 'batman', 'starwars', 'trustno1', 'baseball', 'michael', 'nicolas', 'camille',
  'bonjour', 'coucou', 'doudou', 'tintin', 'pokemon', 'france', 'paris', 'relance', 'comptabilite', 'facture', 'entreprise',
  'utilisateur', 'user', 'test', 'demo', 'root', 'toor', 'default', 'login', 'access', 'abc', 'abcdef', 'abcdefgh', 'abcd1234',
  'qazwsx', 'zaq12wsx', '1q2w3e4r', '1qaz2wsx', 'q1w2e3r4', 'a1b2c3d4', 'asdfgh', 'asdfghjkl', 'zxcvbn', 'zxcvbnm', 'wxcvbn',
  'qsdfghjklm', 'loveyou', 'whatever', 'freedom', 'hello', 'helloworld', 'computer', 'internet', 'samsung', 'google',
]);

const KEYBOARD_ROWS = ['azertyuiop', 'qsdfghjklm', 'wxcvbn', 'qwertyuiop', 'asdfghjkl', 'zxcvbnm', 'qwertzuiop', '1234567890', 'abcdefghijklmnopqrstuvwxyz'];

/** True when every character follows the previous one along the alphabet, the digits or a keyboard row. */
function isRun(s: string): boolean {
  if (s.length < 4) return false;
  const forward = KEYBOARD_ROWS.some((row) => (row + row).includes(s) || (row + row).split('').reverse().join('').includes(s));
  if (forward) return true;
  let up = true;
  let down = true;
  for (let i = 1; i < s.length; i++) {
    const d = s.charCodeAt(i) - s.charCodeAt(i - 1);
    if (d !== 1) up = false;
    if (d !== -1) down = false;
  }
  return up || down;
}

/** Why a password is refused, or null when it is acceptable. `email` is the account's address. */
export function passwordProblem(password: string, email?: string | null): Text | null {
  const chars = [...password];
  if (chars.length < MIN_PASSWORD_LENGTH) return E('password_length');
  if (!/\S/u.test(password)) return E('password_blank');
  const lower = password.normalize('NFC').toLowerCase();
  const compact = lower.replace(/\s+/g, '');
  if (new Set(compact).size < 5 || isRun(compact)) return E('password_repetitive');
  // "Password2024!", "azerty123456", "motdepasse!!": a common base with digits or symbols around it.
  const base = compact.replace(/^[^\p{L}]+|[^\p{L}]+$/gu, '');
  if (COMMON.has(compact) || COMMON.has(base)) return E('password_common');
  // "abcdefgh2024", "azertyui!!!!": a run with a few characters added is still a run.
  if (base.length >= 4 && base.length * 2 >= compact.length && isRun(base)) return E('password_repetitive');
  if (email) {
    const e = email.trim().toLowerCase();
    const alnum = (x: string) => x.replace(/[^\p{L}\p{N}]/gu, '');
    const local = alnum(e.split('@')[0] ?? '');
    if (compact.includes(e) || (local.length >= 4 && alnum(compact).includes(local))) return E('password_email');
  }
  return null;
}
