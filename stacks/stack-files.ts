/**
 * Reading the committed stack files (stacks/Pulumi.<stack>.yaml) outside the Pulumi CLI: the unit tests, the
 * benchmark and the policy-pack tests run each real stack configuration under mocks with these helpers.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as pulumi from '@pulumi/pulumi';
import { parse } from 'yaml';
import { CONFIG_NAMESPACE, validateConfig, type PlatformSettings, type SecretKey } from './config.js';
import type { PlatformConfig } from './platform.js';

export const STACKS = ['local', 'hetzner', 'aws-staging', 'aws-prod'] as const;
export type StackName = (typeof STACKS)[number];

export const STACKS_DIR = dirname(fileURLToPath(import.meta.url));

export interface StackFile {
    /** `nkp:` keys (without the namespace) as the raw strings Pulumi hands the program. */
    values: Record<string, string>;
    /** `nkp:` keys stored as `secure:` values. */
    secureKeys: Set<string>;
    /** Every key of the file's config block, as written. */
    raw: Record<string, unknown>;
}

/** Pure: the config block of a stack file, as Pulumi would present it to the program. */
export function parseStackFile(text: string): StackFile {
    const doc = (parse(text) ?? {}) as { config?: Record<string, unknown> };
    const raw = doc.config ?? {};
    const values: Record<string, string> = {};
    const secureKeys = new Set<string>();
    for (const [fullKey, v] of Object.entries(raw)) {
        if (!fullKey.startsWith(`${CONFIG_NAMESPACE}:`)) continue;
        const key = fullKey.slice(CONFIG_NAMESPACE.length + 1);
        if (typeof v === 'object' && v !== null && !Array.isArray(v) && 'secure' in v) secureKeys.add(key);
        else values[key] = typeof v === 'string' ? v : JSON.stringify(v);
    }
    return { values, secureKeys, raw };
}

export function readStackFile(stack: string, dir = STACKS_DIR): StackFile {
    return parseStackFile(readFileSync(join(dir, `Pulumi.${stack}.yaml`), 'utf8'));
}

/**
 * Validated settings of a committed stack, with optional overrides (raw strings or values; `undefined` removes
 * a key). Secrets count as present (they are set with `pulumi config set --secret`, never committed).
 */
export function settingsForStack(stack: string, overrides: Record<string, unknown> = {}): PlatformSettings {
    const { values } = readStackFile(stack);
    const merged: Record<string, string | undefined> = { ...values };
    for (const [k, v] of Object.entries(overrides)) merged[k] = v === undefined ? undefined : typeof v === 'string' ? v : JSON.stringify(v);
    return validateConfig(
        (k) => merged[k],
        () => true,
        Object.keys(merged).filter((k) => merged[k] !== undefined),
    );
}

/** Stand-in secret values for running a stack under mocks (never real credentials). */
export function standInSecrets(settings: PlatformSettings): Partial<Record<SecretKey, pulumi.Output<string>>> {
    return Object.fromEntries(settings.requiredSecrets.map((k) => [k, pulumi.secret(`stand-in-${k}`)]));
}

/** A whole PlatformConfig of a committed stack for mocks. */
export function platformConfigForStack(stack: string, overrides: Record<string, unknown> = {}): PlatformConfig {
    const settings = settingsForStack(stack, overrides);
    return { settings, secrets: standInSecrets(settings) };
}
