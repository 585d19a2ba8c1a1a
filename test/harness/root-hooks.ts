// Mocha root hooks: stop the shared real components (control plane, Keycloak) once all tests are done.
import { stopSharedControlPlane } from './control-plane.js';

export const mochaHooks = {
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(60_000);
    await stopSharedControlPlane();
  },
};
