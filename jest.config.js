/** One jest run over every workspace, on the TypeScript sources (ESM through ts-jest). */
export default {
  testEnvironment: "node",
  extensionsToTreatAsEsm: [".ts"],
  transform: { "^.+\\.ts$": ["ts-jest", { useESM: true, tsconfig: "tsconfig.json" }] },
  moduleNameMapper: {
    "^@hookbus/(schemas|dev-redis|client)$": "<rootDir>/packages/$1/src/index.ts",
    "^@hookbus/core/(policy|store|flows|queue|runtime)$": "<rootDir>/packages/core/src/$1/index.ts",
    "^@hookbus/(ingest|worker)$": "<rootDir>/apps/$1/src/index.ts",
    "^(\\.{1,2}/.*)\\.js$": "$1",
  },
  testMatch: ["<rootDir>/packages/*/src/**/*.test.ts", "<rootDir>/apps/*/src/**/*.test.ts", "<rootDir>/test/**/*.test.ts"],
  globalSetup: "<rootDir>/test/support/global-setup.js",
  globalTeardown: "<rootDir>/test/support/global-teardown.js",
  reporters: ["default", "<rootDir>/test/support/summary-reporter.js"],
  testTimeout: 60_000,
  maxWorkers: 2,
};
