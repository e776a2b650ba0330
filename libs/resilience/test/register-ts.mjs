// `node --import ./register-ts.mjs --conditions=@jamey/source …` runs workspace TypeScript sources.
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
