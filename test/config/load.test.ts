import { describe, expect, test } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, envName, loadConfig } from '../../src/config/load.js';

function file(content: string): string {
  const p = join(mkdtempSync(join(tmpdir(), 'cfg-')), 'c.json');
  writeFileSync(p, content);
  return p;
}

describe('configuration', () => {
  test('defaults: SIP on 127.0.0.1:5060 over UDP and TCP, the dial-in number, SQLite', () => {
    const c = loadConfig({});
    expect(c.sip).toMatchObject({ host: '127.0.0.1', port: 5060, transports: ['udp', 'tcp'] });
    expect(c.voicemail.dialInNumbers).toEqual(['0033979947994']);
    expect(c.database.url).toBe('sqlite:var/repondeur.db');
    expect(c.retention).toMatchObject({ maxMessages: 100, maxAgeDays: 183 });
  });

  test('environment variables are named after the key and typed like the default', () => {
    expect(envName(['rtp', 'portMin'])).toBe('REPONDEUR_RTP_PORT_MIN');
    const c = loadConfig({
      REPONDEUR_SIP_PORT: '5070',
      REPONDEUR_SIP_TRANSPORTS: 'udp',
      REPONDEUR_API_ENABLED: 'false',
      REPONDEUR_VOICEMAIL_DIAL_IN_NUMBERS: '0033979947994, +33123456789',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
    });
    expect(c.sip.port).toBe(5070);
    expect(c.sip.transports).toEqual(['udp']);
    expect(c.api.enabled).toBe(false);
    expect(c.voicemail.dialInNumbers).toEqual(['0033979947994', '+33123456789']);
    expect(c.database.url).toBe('postgres://postgres@127.0.0.1:5432/test');
  });

  test('a file named by REPONDEUR_CONFIG overrides the defaults, and the environment overrides the file', () => {
    const p = file(JSON.stringify({ sip: { port: 5080 }, log: { level: 'debug' } }));
    const c = loadConfig({ REPONDEUR_CONFIG: p, REPONDEUR_LOG_LEVEL: 'warn' });
    expect(c.sip.port).toBe(5080);
    expect(c.log.level).toBe('warn');
  });

  test.each([
    [{ REPONDEUR_SIP_PORT: 'abc' }, /REPONDEUR_SIP_PORT: "abc" is not a number/],
    [{ REPONDEUR_SIP_PORT: '70000' }, /invalid configuration key "sip.port"/],
    [{ REPONDEUR_LOG_LEVEL: 'loud' }, /invalid configuration key "log.level"/],
    [{ REPONDEUR_RTP_PORT_MIN: '30000', REPONDEUR_RTP_PORT_MAX: '20000' }, /"rtp.portMin": rtp.portMin must be below rtp.portMax/],
    [{ REPONDEUR_DATABASE_URL: 'mysql://x' }, /invalid configuration key "database.url"/],
    [{ REPONDEUR_VOICEMAIL_TIME_ZONE: 'Mars/Olympus' }, /invalid configuration key "voicemail.timeZone"/],
    [{ REPONDEUR_API_ENABLED: 'perhaps' }, /REPONDEUR_API_ENABLED: "perhaps" is not a boolean/],
  ])('a bad value stops the start with the name of the key (%o)', (env, message) => {
    expect(() => loadConfig(env as NodeJS.ProcessEnv)).toThrow(ConfigError);
    expect(() => loadConfig(env as NodeJS.ProcessEnv)).toThrow(message);
  });

  test('unknown keys and unreadable files are refused by name', () => {
    expect(() => loadConfig({ REPONDEUR_CONFIG: file(JSON.stringify({ sip: { prot: 1 } })) })).toThrow(/unknown configuration key "sip.prot"/);
    expect(() => loadConfig({ REPONDEUR_CONFIG: file('{ not json') })).toThrow(/cannot read REPONDEUR_CONFIG file/);
    expect(() => loadConfig({ REPONDEUR_CONFIG: '/nonexistent/c.json' })).toThrow(/cannot read REPONDEUR_CONFIG file \/nonexistent\/c.json/);
  });
});
