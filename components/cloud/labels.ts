/**
 * The label convention of the platform's own objects: every label key the platform invents is `nkp.nebari.dev/<name>`
 * (Kubernetes labels, Hetzner labels, Argo CD Applications' layer label). `nebari.dev/` stays reserved for the
 * NebariApp contract shared with the upstream nebari-operator (e.g. `nebari.dev/managed`), and `kubernetes.io/` /
 * `app.kubernetes.io/` for the well-known keys. test/unit/cloud/labels.test.ts fails on any other prefix of ours.
 */
export const NKP_LABEL_PREFIX = 'nkp.nebari.dev/';

/** `nkp.nebari.dev/<name>`. */
export function nkpLabel(name: string): string {
    return `${NKP_LABEL_PREFIX}${name}`;
}
