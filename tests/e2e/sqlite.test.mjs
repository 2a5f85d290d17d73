/* The UI scenarios against the real binary on the embedded (SQLite) store. */
import { sqliteApp } from './lib/harness.mjs';
import { registerScenarios } from './lib/scenarios.mjs';

registerScenarios('sqlite', sqliteApp);
