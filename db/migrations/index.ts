/** The committed migrations, in order. Add each new migration here. */
import { Migration20261121200510_initial } from './Migration20261121200510_initial.ts';

export const MIGRATIONS = [{ name: 'Migration20261121200510_initial', class: Migration20261121200510_initial }];
