// Keycloak side of the operator: desired state (pure), OIDC Secret + RBAC (pure), admin credentials, the provisioner.
export * from './desired.js';
export * from './secret.js';
export * from './errors.js';
export * from './credentials.js';
export * from './provisioner.js';
export * from './auth-provisioner.js';
