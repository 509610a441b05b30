import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { RegulationUnavailableError } from '../errors/domain-errors.js';
import { createCounter } from './login-counters.js';

export interface DeviceRegulationSettings {
  /** Failed logins through one device cookie, per window, before the device loses its trust. */
  maxFailures: number;
  /** Seconds over which a device's failures are counted. */
  windowSeconds: number;
}

/**
 * The failure count of trusted devices: a login through a device cookie claims one attempt of its
 * device before its password is checked (so a parallel burst gets no more checks than the limit),
 * a failure keeps it, a success clears the device, an attempt whose password was never checked
 * gives it back. A device past its limit is untrusted until its window passes: its logins go
 * through the per-IP regulation like any other. Shared through Redis like the other counts.
 */
export class DeviceRegulation {
  /** The devices' counts; the ban list reads and clears them too. */
  readonly limiter: RateLimiterAbstract;

  constructor(settings: DeviceRegulationSettings, redis?: unknown, keyPrefix = 'sidecar:') {
    this.limiter = createCounter('device', settings.maxFailures, settings.windowSeconds, redis, keyPrefix);
  }

  /** Claims one attempt for the device; false (the claim kept, past the limit anyway) when the device has used its attempts. */
  async reserve(deviceId: string): Promise<boolean> {
    try {
      await this.guard(this.limiter.consume(deviceId));
      return true;
    } catch (error) {
      if (error instanceof RateLimiterRes) return false;
      throw error;
    }
  }

  async succeeded(deviceId: string): Promise<void> {
    await this.guard(this.limiter.delete(deviceId));
  }

  async release(deviceId: string): Promise<void> {
    await this.guard(this.limiter.reward(deviceId));
  }

  private async guard<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (error) {
      throw error instanceof RateLimiterRes || error instanceof RegulationUnavailableError ? error : new RegulationUnavailableError(error);
    }
  }
}
