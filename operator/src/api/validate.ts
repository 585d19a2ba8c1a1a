// Validation and defaulting of NebariApps, from the one schema (schema.ts): ajv checks the OpenAPI part (types,
// patterns, enums, ranges, lengths, unknown fields), the CEL rules run through their TypeScript twins, and a few
// checks only code can do (hostname labels of at most 63 characters). Used by the operator, the pack validator and
// the policy pack.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import {
  DNS1035_LABEL_PATTERN,
  DNS1123_LABEL_PATTERN,
  HEADER_NAME_PATTERN,
  HOSTNAME_PATTERN,
  HTTP_URL_PATTERN,
  HTTPS_ISSUER_PATTERN,
  NebariAppSpecSchema,
  PATH_PATTERN,
  SCOPE_PATTERN,
  celRules,
  plainSchema,
  type CelRule,
} from './schema.js';

/** What each pattern of the schema means, for error messages. */
const PATTERN_MEANING: Record<string, string> = {
  [HOSTNAME_PATTERN]: 'a lower-case DNS name such as app.example.com',
  [DNS1035_LABEL_PATTERN]: 'a DNS-1035 label (lower-case letters, digits and "-", starting with a letter)',
  [DNS1123_LABEL_PATTERN]: 'a DNS-1123 label (lower-case letters, digits and "-")',
  [HEADER_NAME_PATTERN]: 'an HTTP header name',
  [SCOPE_PATTERN]: 'an OAuth scope without spaces or quotes',
  [HTTP_URL_PATTERN]: 'an absolute http(s) URL',
  [HTTPS_ISSUER_PATTERN]: 'an https:// issuer URL without query, fragment or user info (the gateway accepts no other)',
  [PATH_PATTERN]: 'a path starting with "/" without spaces',
};
import { API_VERSION, KIND, type NebariAppSpec } from './types.js';

export interface ValidationError {
  /** Path of the offending field, e.g. `spec.routing.routes[0].pathPrefix`. */
  field: string;
  /** What is wrong and what is allowed. */
  message: string;
}

type Json = Record<string, unknown>;

/** Deep copy of a schema where every object with declared properties rejects unknown ones (kubectl's strict mode). */
function closeObjects(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(closeObjects);
  if (node === null || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node as Json)) {
    // `default` values are data, not schemas
    out[k] = k === 'default' || k === 'enum' ? v : closeObjects(v);
  }
  if (out['type'] === 'object' && out['properties'] !== undefined && out['additionalProperties'] === undefined) {
    out['additionalProperties'] = false;
  }
  return out;
}

function makeAjv(useDefaults: boolean): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: true, useDefaults, verbose: true });
  ajv.addVocabulary(['x-kubernetes-validations', 'x-kubernetes-list-type', 'x-kubernetes-list-map-keys']);
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
  ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i);
  return ajv;
}

let compiled: { check: ValidateFunction; defaults: ValidateFunction } | undefined;
function validators(): { check: ValidateFunction; defaults: ValidateFunction } {
  if (!compiled) {
    const strictSpec = closeObjects(plainSchema(NebariAppSpecSchema)) as Json;
    compiled = {
      check: makeAjv(false).compile(strictSpec),
      defaults: makeAjv(true).compile(plainSchema(NebariAppSpecSchema)),
    };
  }
  return compiled;
}

/**
 * The spec with every schema default the API server would apply (a new object; the input is not changed).
 * Defaults apply where their parent exists, exactly like the API server: `auth.enabled` is defaulted only when
 * `auth` is present, `routing.tls` (and so `routing.tls.enabled: true`) only when `routing` is present.
 */
export function applyDefaults(spec: NebariAppSpec): NebariAppSpec {
  const copy = structuredClone(spec);
  validators().defaults(copy);
  return copy;
}

function jsonPointerToField(prefix: string, pointer: string): string {
  let out = prefix;
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(seg) ? `[${seg}]` : out === '' ? seg : `.${seg}`;
  }
  return out;
}

function describeAjvError(prefix: string, e: ErrorObject): ValidationError {
  const field = jsonPointerToField(prefix, e.instancePath);
  const ps = (e.parentSchema ?? {}) as Json;
  const p = e.params as Json;
  const join = (f: string, k: string) => (f === '' ? k : `${f}.${k}`);
  switch (e.keyword) {
    case 'required':
      return { field: join(field, String(p['missingProperty'])), message: 'is required' };
    case 'additionalProperties': {
      const allowed = Object.keys((ps['properties'] as Json | undefined) ?? {}).join(', ');
      return { field: join(field, String(p['additionalProperty'])), message: `unknown field; allowed fields here: ${allowed}` };
    }
    case 'enum':
      return { field, message: `must be one of: ${(p['allowedValues'] as unknown[]).join(', ')}` };
    case 'type':
      return { field, message: `must be of type ${String(p['type'])}` };
    case 'pattern': {
      const meaning = PATTERN_MEANING[String(p['pattern'])];
      return { field, message: `${meaning ? `must be ${meaning}: ` : ''}must match the pattern ${String(p['pattern'])}` };
    }
    case 'minimum':
    case 'maximum': {
      const min = ps['minimum'];
      const max = ps['maximum'];
      const range = min !== undefined && max !== undefined ? `between ${String(min)} and ${String(max)}` : min !== undefined ? `>= ${String(min)}` : `<= ${String(max)}`;
      return { field, message: `must be ${range}` };
    }
    case 'minLength':
      return { field, message: Number(p['limit']) === 1 ? 'must not be empty' : `must be at least ${String(p['limit'])} characters` };
    case 'maxLength':
      return { field, message: `must be at most ${String(p['limit'])} characters` };
    case 'maxItems':
      return { field, message: `must have at most ${String(p['limit'])} items` };
    case 'format':
      return { field, message: `must be a valid ${String(p['format'])}` };
    default:
      return { field, message: e.message ?? `fails ${e.keyword}` };
  }
}

/** Visit every object the rule's `at` path designates (`*` = each array element), with its field path. */
function visit(root: Json, at: string, fn: (obj: Json, path: string) => void): void {
  const segs = at.split('.').slice(1); // drop the leading `spec`
  const walk = (node: unknown, i: number, path: string): void => {
    if (i === segs.length) {
      if (node !== null && typeof node === 'object' && !Array.isArray(node)) fn(node as Json, path);
      return;
    }
    const seg = segs[i]!;
    if (seg === '*') {
      if (Array.isArray(node)) node.forEach((el, idx) => walk(el, i + 1, `${path}[${idx}]`));
      return;
    }
    if (node !== null && typeof node === 'object' && !Array.isArray(node)) walk((node as Json)[seg], i + 1, `${path}.${seg}`);
  };
  walk(root, 0, 'spec');
}

function celErrors(spec: Json, rules: readonly CelRule[]): ValidationError[] {
  const out: ValidationError[] = [];
  for (const rule of rules) {
    visit(spec, rule.at, (obj, path) => {
      if (!rule.check(obj)) out.push({ field: `${path}.${rule.field}`, message: rule.message });
    });
  }
  return out;
}

/** Checks the API server cannot express in the schema; the operator reports these with reason ValidationFailed. */
export function semanticErrors(spec: NebariAppSpec): ValidationError[] {
  const out: ValidationError[] = [];
  if (typeof spec.hostname === 'string') {
    const long = spec.hostname.split('.').find((l) => l.length > 63);
    if (long !== undefined) out.push({ field: 'spec.hostname', message: `each DNS label must be at most 63 characters ("${long.slice(0, 20)}..." is ${long.length})` });
  }
  return out;
}

/** Validate a spec: schema (with unknown fields rejected), then the CEL rules and semantic checks on the defaulted spec. */
export function validateSpec(spec: unknown): ValidationError[] {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) return [{ field: 'spec', message: 'is required and must be an object' }];
  const { check } = validators();
  const errors: ValidationError[] = [];
  if (!check(spec)) errors.push(...(check.errors ?? []).map((e) => describeAjvError('spec', e)));
  const defaulted = applyDefaults(spec as NebariAppSpec);
  errors.push(...celErrors(defaulted as Json, celRules));
  errors.push(...semanticErrors(defaulted));
  // de-duplicate (allErrors can report one field twice)
  const seen = new Set<string>();
  return errors.filter((e) => {
    const k = `${e.field}\u0000${e.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Validate a whole NebariApp object (apiVersion/kind checked when present; metadata may lack a namespace). */
export function validate(app: unknown): ValidationError[] {
  if (app === null || typeof app !== 'object' || Array.isArray(app)) return [{ field: '', message: 'a NebariApp must be an object' }];
  const a = app as Json;
  const errors: ValidationError[] = [];
  if (a['apiVersion'] !== undefined && a['apiVersion'] !== API_VERSION) {
    errors.push({ field: 'apiVersion', message: `must be ${API_VERSION}` });
  }
  if (a['kind'] !== undefined && a['kind'] !== KIND) errors.push({ field: 'kind', message: `must be ${KIND}` });
  const md = a['metadata'];
  if (md !== undefined && (md === null || typeof md !== 'object')) errors.push({ field: 'metadata', message: 'must be an object' });
  errors.push(...validateSpec(a['spec']));
  return errors;
}

/** One readable line per error, e.g. for an exception or a condition message. */
export function formatErrors(errors: readonly ValidationError[]): string {
  return errors.map((e) => `${e.field}: ${e.message}`).join('; ');
}
