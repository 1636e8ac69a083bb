/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json', diagnostics: false }],
  },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testTimeout: 60000,
  // test.concurrent tests of one describe start together up to this many (jest's default is 5): the SIPp deposit
  // and dial-in files run a describe's independent real-time calls side by side (11 in the largest describe).
  maxConcurrency: 12,
  reporters: ['default', '<rootDir>/test/helpers/summary-reporter.js'],
};
