import { describe, expect, it } from 'vitest';
import { reasonText } from './reasons.ts';

describe('why a step waits or was cancelled, in words', () => {
  it('says every reason the engine stores, in French and English, several joined', () => {
    expect(reasonText('provisional_rate', 'fr')).toBe('attend un taux officiel encore inconnu : les pénalités réclamées seraient provisoires');
    expect(reasonText('paused,paid', 'en')).toBe('reminders paused, invoice paid');
    expect(reasonText('insolvency', 'fr')).toBe('procédure collective : le recouvrement est arrêté');
    expect(reasonText('confirmed sent by a human', 'fr')).toBe('envoi confirmé par une personne');
    expect(reasonText('queued again by claire@journee.fr', 'fr')).toBe('remise en file par claire@journee.fr');
    for (const code of ['superseded', 'min_gap', 'prerequisite', 'handover', 'review_expired', 'escalation_apart']) {
      for (const lang of ['fr', 'en'] as const) expect(reasonText(code, lang)).not.toMatch(/_/);
    }
  });
});
