// Mocha root hooks: stop the shared real components (Keycloak, control plane) once all tests are done.
import { stopSharedControlPlane } from './control-plane.js';
import { stopSharedKeycloak } from './keycloak.js';

export const mochaHooks = {
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(120_000);
    await Promise.all([stopSharedKeycloak(), stopSharedControlPlane()]);
  },
};
