import { envNamePattern, envNameRule } from "../dynamic-providers/fly/machine-check";

export { envNameRule };

/** Text rules a stack config value may have to match; each program words its own message around them. */
export const patterns = {
  flyOrg: /^[a-z0-9][a-z0-9-]*$/,
  /**
   * A container image reference as Docker's distribution/reference grammar has it: an optional registry
   * host (and port), lowercase path components, an optional tag and an optional digest.
   */
  image:
    /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::\d+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::\w[\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$/,
  /** The fly:Machine and fly:ReleaseCommand providers' rule. */
  envName: envNamePattern,
  volumeName: /^[a-z0-9_]{1,30}$/,
  absolutePath: /^\/\S*$/,
  hex32: /^[0-9a-f]{32}$/,
  domain: /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
  email: /^[^\s@]+@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i,
  httpUrl: /^https?:\/\/[^\s/]+(?:\/\S*)?$/,
  httpsUrl: /^https:\/\/[^\s/]+(?:\/\S*)?$/,
  githubRepository: /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/(?!\.\.?$)[A-Za-z0-9._-]{1,100}$/,
  gitBranch: /^(?!\/|.*\/$|.*\.\.)[A-Za-z0-9._/-]{1,255}$/,
  stack: /^(?:[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/)?[A-Za-z0-9_.-]+$/,
  neonProjectName: /^\S(?:.{0,62}\S)?$/,
  neonBranchName: /^[A-Za-z0-9._/-]{1,256}$/,
  postgresName: /^[a-z_][a-z0-9_]{0,62}$/,
  pagesProject: /^[a-z0-9](?:[a-z0-9-]{0,56}[a-z0-9])?$/,
  r2Bucket: /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/,
};
