// Mocha root hooks: stop the shared real components (gateway controllers, Keycloak, control plane) once all tests are done.
import { stopSharedControlPlane } from './control-plane.js';
import { stopSharedGatewayControllers } from './gateway-controllers.js';
import { stopSharedKeycloak } from './keycloak.js';

export const mochaHooks = {
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(120_000);
    // the controllers first: they are clients of the control plane
    await stopSharedGatewayControllers();
    await Promise.all([stopSharedKeycloak(), stopSharedControlPlane()]);
  },
};
