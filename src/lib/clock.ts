/** Time as berth's services see it; the daemon injects the system clock, tests a fixed one. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  nowMs(): number;
  /** Nanoseconds since the Unix epoch (the resolution Docker's event timestamps carry). */
  nowNs(): bigint;
}
