/**
 * Cloud provider SDKs, loaded on first use. An ES module `import * as aws from '@pulumi/aws'` reads every export of
 * the SDK's CommonJS index, and those exports are lazy getters: reading them all loads most of the SDK (about half
 * a second of CPU for @pulumi/cloudflare alone), on every program run and in every stack, though a stack uses one
 * cloud. Through {@link lazySdk} a stack loads only the SDKs it uses, and of them only the modules it touches.
 */
import { createRequire } from 'node:module';

const requireHere = createRequire(import.meta.url);

/** The module `specifier` (a CommonJS package), required when a property of the result is first read. */
export function lazySdk<T extends object>(specifier: string): T {
    let loaded: T | undefined;
    const load = (): T => (loaded ??= requireHere(specifier) as T);
    return new Proxy({} as T, {
        get: (_target, key) => Reflect.get(load(), key),
        has: (_target, key) => Reflect.has(load(), key),
    });
}
