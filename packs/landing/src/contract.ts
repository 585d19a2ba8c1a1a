// The NebariApp contract as the landing page reads it. Names, defaults and the schema come from the operator's
// API module (the single source of truth); nothing is redefined here.
import type { NebariApp } from '../../../operator/src/api/types.js';
export { GROUP as NEBARIAPP_GROUP, VERSION as NEBARIAPP_VERSION, PLURAL as NEBARIAPP_PLURAL, SECRET_KEYS } from '../../../operator/src/api/types.js';
export {
  BUILTIN_ICONS,
  DEFAULT_PRIORITY,
  DEFAULT_HEALTH_PATH,
  DEFAULT_HEALTH_INTERVAL_SECONDS,
  DEFAULT_HEALTH_TIMEOUT_SECONDS,
  DEFAULT_REDIRECT_URI,
  DEFAULT_SCOPES,
} from '../../../operator/src/api/schema.js';

type DeepPartial<T> = T extends readonly (infer U)[] ? readonly DeepPartial<U>[] : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

/**
 * A NebariApp as it arrives from the API server. Every field is treated as possibly absent: objects written
 * before a CRD upgrade, or status written by an older operator, must not crash the page.
 */
export type NebariAppLike = DeepPartial<NebariApp>;
