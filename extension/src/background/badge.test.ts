import { describe, expect, it } from 'vitest';
import { attentionFor } from './badge.js';

const base = { backend: 'https://gatehouse.example', pairing: null, notice: null };

describe('the toolbar badge', () => {
  it('is empty when all is well, and says what needs attention otherwise', () => {
    expect(attentionFor({ ...base, state: 'paired' }, false).text).toBe('');
    expect(attentionFor({ ...base, state: 'not-paired' }, false).text).toBe('');
    expect(attentionFor({ ...base, state: 'not-configured', backend: null }, true).text).toBe('');
    const pairing = attentionFor({ ...base, state: 'pairing' }, false);
    expect(pairing).toMatchObject({ text: '…', title: 'Gatehouse: approve the code on the pair page' });
    const ended = attentionFor({ ...base, state: 'not-paired', notice: { code: 'PAIRING_ENDED', message: 'Your pairing ended.' } }, false);
    expect(ended).toMatchObject({ text: '!', title: 'Gatehouse: Your pairing ended.' });
    expect(attentionFor({ ...base, state: 'paired' }, true)).toMatchObject({
      text: '?',
      title: 'Gatehouse: the backend cannot be reached right now',
    });
  });
});
