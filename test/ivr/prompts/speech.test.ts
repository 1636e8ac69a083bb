import { describe, expect, test } from '@jest/globals';
import {
  sayDateTime,
  sayDuration,
  sayEnvelope,
  sayFolderCount,
  sayFolderName,
  sayMessageCount,
  sayMessageNumber,
} from '../../../src/ivr/prompts/speech.js';
import { phrase, render } from './render.js';

/** Paris wall-clock time → epoch ms, given the UTC offset in hours in force then. */
const paris = (y: number, mo: number, d: number, h: number, mi: number, offsetHours: number): number =>
  Date.UTC(y, mo - 1, d, h - offsetHours, mi);

describe('sayMessageCount', () => {
  test.each([
    [0, 0, "Vous n'avez pas de message", 'You have no messages'],
    [1, 0, 'Vous avez un nouveau message', 'You have one new message'],
    [0, 1, "Vous n'avez pas de nouveau message et un ancien message", 'You have no new messages and one old message'],
    [2, 1, 'Vous avez deux nouveaux messages et un ancien message', 'You have two new messages and one old message'],
    [1, 2, 'Vous avez un nouveau message et deux anciens messages', 'You have one new message and two old messages'],
    [21, 0, 'Vous avez vingt et un nouveaux messages', 'You have twenty one new messages'],
  ])('%i new, %i old', (fresh, old, fr, en) => {
    expect(render(sayMessageCount(fresh, old, 'fr'), 'fr')).toBe(phrase(fr));
    expect(render(sayMessageCount(fresh, old, 'en'), 'en')).toBe(en);
  });

  test('rejects negative and fractional counts', () => {
    expect(() => sayMessageCount(-1, 0, 'fr')).toThrow(/newCount/);
    expect(() => sayMessageCount(0, 1.5, 'fr')).toThrow(/oldCount/);
  });
});

describe('sayDateTime', () => {
  test('a winter afternoon (UTC+1)', () => {
    const at = paris(2020, 11, 24, 14, 32, 1);
    expect(render(sayDateTime(at, 'fr'), 'fr')).toBe(phrase('reçu le mardi vingt-quatre novembre à quatorze heures trente-deux'));
    expect(render(sayDateTime(at, 'en'), 'en')).toBe(phrase('received on Tuesday November twenty-fourth at two thirty-two P.M.'));
  });

  test('daylight saving time: the same UTC hour is said one hour later in summer', () => {
    expect(render(sayDateTime(Date.UTC(2024, 0, 14, 12, 0), 'fr'), 'fr')).toBe('reçu le dimanche quatorze janvier à treize heures');
    expect(render(sayDateTime(Date.UTC(2024, 6, 14, 12, 0), 'fr'), 'fr')).toBe('reçu le dimanche quatorze juillet à quatorze heures');
  });

  test('across the spring-forward night of 31 March 2024', () => {
    // 00:59 UTC is 01:59 CET; 01:00 UTC is already 03:00 CEST.
    expect(render(sayDateTime(Date.UTC(2024, 2, 31, 0, 59), 'fr'), 'fr')).toBe(
      phrase('reçu le dimanche trente et un mars à une heure cinquante-neuf'),
    );
    expect(render(sayDateTime(Date.UTC(2024, 2, 31, 1, 0), 'fr'), 'fr')).toBe('reçu le dimanche trente et un mars à trois heures');
  });

  test('midnight and the first of the month ("premier")', () => {
    const midnight = paris(2024, 3, 1, 0, 0, 1);
    expect(render(sayDateTime(midnight, 'fr'), 'fr')).toBe('reçu le vendredi premier mars à minuit');
    expect(render(sayDateTime(midnight + 5 * 60_000, 'fr'), 'fr')).toBe('reçu le vendredi premier mars à minuit cinq');
    expect(render(sayDateTime(midnight, 'en'), 'en')).toBe('received on Friday March first at midnight');
  });

  test('one o’clock is singular and feminine; 21:01 agrees with heure and minute', () => {
    expect(render(sayDateTime(paris(2024, 3, 2, 1, 0, 1), 'fr'), 'fr')).toBe('reçu le samedi deux mars à une heure');
    expect(render(sayDateTime(paris(2024, 3, 2, 21, 1, 1), 'fr'), 'fr')).toBe('reçu le samedi deux mars à vingt et une heures une');
  });

  test('English clock: noon, "oh" minutes, A.M.', () => {
    expect(render(sayDateTime(paris(2024, 3, 2, 12, 0, 1), 'en'), 'en')).toBe('received on Saturday March second at noon');
    expect(render(sayDateTime(paris(2024, 3, 2, 9, 5, 1), 'en'), 'en')).toBe('received on Saturday March second at nine oh five A.M.');
    expect(render(sayDateTime(paris(2024, 3, 2, 0, 30, 1), 'en'), 'en')).toBe('received on Saturday March second at twelve thirty A.M.');
  });

  test('another time zone gives another wall-clock time', () => {
    const at = Date.UTC(2024, 2, 2, 12, 0);
    expect(render(sayDateTime(at, 'fr', 'America/New_York'), 'fr')).toBe('reçu le samedi deux mars à sept heures');
  });

  test('with "now": today, yesterday, and the year when it differs', () => {
    const now = paris(2024, 3, 2, 10, 0, 1);
    expect(render(sayDateTime(paris(2024, 3, 2, 8, 15, 1), 'fr', 'Europe/Paris', { now }), 'fr')).toBe(
      "reçu aujourd'hui à huit heures quinze",
    );
    expect(render(sayDateTime(paris(2024, 3, 1, 23, 59, 1), 'fr', 'Europe/Paris', { now }), 'fr')).toBe(
      phrase('reçu hier à vingt-trois heures cinquante-neuf'),
    );
    expect(render(sayDateTime(paris(2024, 2, 28, 9, 0, 1), 'fr', 'Europe/Paris', { now }), 'fr')).toBe(
      phrase('reçu le mercredi vingt-huit février à neuf heures'),
    );
    expect(render(sayDateTime(paris(2023, 12, 31, 9, 0, 1), 'fr', 'Europe/Paris', { now }), 'fr')).toBe(
      phrase('reçu le dimanche trente et un décembre deux mille vingt-trois à neuf heures'),
    );
  });

  test('rejects an unknown time zone and a non-time', () => {
    expect(() => sayDateTime(0, 'fr', 'Mars/Olympus')).toThrow(/unknown time zone "Mars\/Olympus"/);
    expect(() => sayDateTime(Number.NaN, 'fr')).toThrow(/not a time/);
  });
});

describe('sayDuration', () => {
  test.each([
    [125, 'deux minutes cinq secondes', 'two minutes five seconds'],
    [60, 'une minute', 'one minute'],
    [45, 'quarante-cinq secondes', 'forty five seconds'],
    [1, 'une seconde', 'one second'],
    [0, 'zéro seconde', 'zero seconds'],
    [21 * 60, 'vingt et une minutes', 'twenty one minutes'],
    [3661, 'une heure une minute une seconde', 'one hour one minute one second'],
    [7200.4, 'deux heures', 'two hours'],
  ])('%p s', (seconds, fr, en) => {
    expect(render(sayDuration(seconds, 'fr'), 'fr')).toBe(phrase(fr));
    expect(render(sayDuration(seconds, 'en'), 'en')).toBe(en);
  });

  test('rejects negative and non-finite durations', () => {
    expect(() => sayDuration(-1, 'fr')).toThrow(/duration/);
    expect(() => sayDuration(Number.POSITIVE_INFINITY, 'fr')).toThrow(/duration/);
  });
});

describe('sayEnvelope', () => {
  const receivedAt = paris(2020, 11, 24, 14, 32, 1);

  test('date, caller digit by digit, duration', () => {
    expect(render(sayEnvelope({ receivedAt, caller: '+33612', durationSeconds: 125 }, 'fr'), 'fr')).toBe(
      phrase('reçu le mardi vingt-quatre novembre à quatorze heures trente-deux de la part du plus trois trois six un deux durée deux minutes cinq secondes'),
    );
    expect(render(sayEnvelope({ receivedAt, caller: '0612', durationSeconds: 60 }, 'en'), 'en')).toBe(
      phrase('received on Tuesday November twenty-fourth at two thirty-two P.M. from zero six one two duration one minute'),
    );
  });

  test.each([null, undefined, '', 'anonymous', 'sip:alice@example.org'])('unknown caller %p', (caller) => {
    const ids = sayEnvelope({ receivedAt, caller, durationSeconds: 3 }, 'fr');
    expect(ids).toContain('unknown_number');
    expect(ids).not.toContain('from');
  });
});

describe('folders', () => {
  test('names, including Asterisk spellings', () => {
    expect(render(sayFolderName('work'), 'fr')).toBe('travail');
    expect(render(sayFolderName('INBOX'), 'fr')).toBe('nouveaux messages');
    expect(() => sayFolderName('Cust1')).toThrow(/unknown mailbox folder "Cust1"/);
    expect(() => sayFolderName('constructor')).toThrow(/unknown mailbox folder/);
  });

  test('folder count', () => {
    expect(render(sayFolderCount(3, 'family', 'fr'), 'fr')).toBe('Vous avez trois messages dans le dossier famille');
    expect(render(sayFolderCount(1, 'friends', 'en'), 'en')).toBe('You have one message in the folder friends');
    expect(sayFolderCount(0, 'work', 'fr')).toEqual(['folder_empty']);
  });

  test('message number', () => {
    expect(render(sayMessageNumber(3, 'fr'), 'fr')).toBe('Message numéro trois');
  });
});
