/**
 * Every test file starts with an instance key, as a server on the embedded database has one (its
 * data folder's secret.key): storing a tenant's secret needs it (src/secrets.ts). Tests of the
 * no-key case set it to null themselves.
 */
import { randomBytes } from 'node:crypto';
import { setInstanceKey } from '../src/secrets.ts';

setInstanceKey(randomBytes(32));
