import { SigilError } from '@sigil/core';
import type { AgentAddress, Instance, MachineSpec, Provider } from './provider.ts';

/**
 * The provider of a controller replica on another host than the one its provider makes
 * machines on (`sigil enable-ha --to ssh:HOST`). It runs a model's workers only when no
 * replica on that host is alive (the leases prefer those), and then it cannot reach the
 * machines made there: every call that needs one fails saying so, and the workers retry
 * until a replica on that host is back. Enlisted hosts need no provider call at all.
 */
export class AwayProvider implements Provider {
  readonly restartsDeadAgents = false;

  constructor(readonly name: string, private readonly home: string) {}

  private refuse(what: string): SigilError {
    return new SigilError('unavailable', `cannot ${what}: this controller replica runs away from ${this.home}, where the ${this.name} provider's machines are`, `start the controller there again (\`sigil start-controller\` on that host): its replicas take the work back from this one`);
  }

  create(spec: MachineSpec): Promise<Instance> {
    return Promise.reject(this.refuse(`create machine ${spec.id}`));
  }

  ensureRunning(_model: string, id: string): Promise<void> {
    return Promise.reject(this.refuse(`start machine ${id}`));
  }

  stop(_model: string, id: string): Promise<void> {
    return Promise.reject(this.refuse(`stop machine ${id}`));
  }

  destroy(_model: string, id: string): Promise<void> {
    return Promise.reject(this.refuse(`destroy machine ${id}`));
  }

  repointAgent(_model: string, id: string, _to: AgentAddress): Promise<void> {
    return Promise.reject(this.refuse(`re-point machine ${id}'s agent`));
  }

  diagnose(_model: string, id: string): Promise<string> {
    return Promise.resolve(`machine ${id} is on ${this.home}, which this controller replica cannot reach`);
  }

  exec(_model: string, id: string): Promise<{ code: number; stdout: string; stderr: string }> {
    return Promise.reject(this.refuse(`run a command on machine ${id}`));
  }

  streamCommand(_model: string, id: string): Promise<{ cmd: string; args: string[] }> {
    return Promise.reject(this.refuse(`copy files to or from machine ${id}`));
  }
}
