// Entry point of the landing service (the image's server.mjs): process.ts with the environment as configuration.
import { runLandingProcess } from './process.js';

runLandingProcess();
