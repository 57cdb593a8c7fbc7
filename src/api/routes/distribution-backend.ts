/** What the pull, push and auth routes need from the engine. */
import type { AuthConfig, ProgressSink } from '../../distribution/index.js';

export interface PullPlan {
  run(progress: ProgressSink): Promise<void>;
}

export interface DistributionBackend {
  /** Resolves the manifest (errors become HTTP statuses); the returned plan streams the pull. */
  preparePull(name: string, options: { tag?: string; platform?: string; auth?: AuthConfig }): Promise<PullPlan>;
  /** Checks the push has something to send (404 otherwise); the plan streams the push. */
  preparePush(name: string, options: { tag?: string; auth?: AuthConfig }): PullPlan;
  login(auth: AuthConfig): Promise<{ Status: string; IdentityToken: string }>;
}
