# Shell helpers for the delivery workflows (.github/workflows/), sourced by their Pulumi steps:
#   source "$GITHUB_WORKSPACE/scripts/pulumi-ci.sh"
#
# Backend switch (README "Delivery (GitHub Actions)"):
#   PULUMI_BACKEND_URL set (s3://, gs://, azblob://, …)  a self-managed backend; secrets by PULUMI_CONFIG_PASSPHRASE
#                                                       or a KMS key (PULUMI_SECRETS_PROVIDER, e.g. awskms://…)
#   PULUMI_BACKEND_URL set to https://…                 a self-hosted Pulumi Cloud; needs PULUMI_ACCESS_TOKEN
#   PULUMI_BACKEND_URL empty                            Pulumi Cloud; needs PULUMI_ACCESS_TOKEN
# An unset GitHub secret arrives as an empty string: pulumi_ci_env unsets those, so that an empty
# PULUMI_CONFIG_PASSPHRASE is never taken for a passphrase.

# Checks the backend settings and exports what every Pulumi step needs; prints which backend, never a secret.
pulumi_ci_env() {
  local name
  for name in PULUMI_BACKEND_URL PULUMI_ACCESS_TOKEN PULUMI_CONFIG_PASSPHRASE PULUMI_SECRETS_PROVIDER; do
    if [ -z "${!name:-}" ]; then unset "$name"; fi
  done
  # A CI runner starts without the stack files' secrets settings of stacks made in CI (pr-<n>): take them
  # from the stack's state (its salt or encrypted data key) instead of making new ones.
  export PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER=true
  export PULUMI_SKIP_UPDATE_CHECK=true
  if [ -z "${PULUMI_BACKEND_URL:-}" ] || [[ "$PULUMI_BACKEND_URL" == https://* ]]; then
    if [ -z "${PULUMI_ACCESS_TOKEN:-}" ]; then
      echo "::error::No Pulumi backend: set the PULUMI_BACKEND_URL secret (s3://, gs://, azblob://) for a self-managed backend, or PULUMI_ACCESS_TOKEN for Pulumi Cloud"
      return 1
    fi
    echo "Pulumi backend: ${PULUMI_BACKEND_URL:-Pulumi Cloud}"
    return 0
  fi
  case "$PULUMI_BACKEND_URL" in
    file://*)
      echo "::error::PULUMI_BACKEND_URL is a file:// backend: its state would be lost with the runner; use s3://, gs:// or azblob://"
      return 1
      ;;
  esac
  if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ] && [ -z "${PULUMI_SECRETS_PROVIDER:-}" ]; then
    echo "::error::A self-managed backend needs PULUMI_CONFIG_PASSPHRASE (passphrase secrets) or PULUMI_SECRETS_PROVIDER (awskms://, gcpkms://, azurekeyvault://)"
    return 1
  fi
  echo "Pulumi backend: self-managed (${PULUMI_BACKEND_URL%%://*}), secrets: ${PULUMI_SECRETS_PROVIDER:+${PULUMI_SECRETS_PROVIDER%%://*}}${PULUMI_SECRETS_PROVIDER:-passphrase}"
}

# pulumi_ci_env, then `pulumi login` to the chosen backend.
pulumi_ci_login() {
  pulumi_ci_env || return 1
  if [ -n "${PULUMI_BACKEND_URL:-}" ]; then
    pulumi login --non-interactive "$PULUMI_BACKEND_URL"
  else
    pulumi login --non-interactive
  fi
}

# The --secrets-provider a new stack gets: the KMS key when one is configured, else the backend's default
# (passphrase on a self-managed backend, Pulumi Cloud's own otherwise).
pulumi_ci_secrets_provider() {
  echo "${PULUMI_SECRETS_PROVIDER:-default}"
}

# Prints `true` when the current project (directory) has a stack of that name, `false` when not; fails when the
# stacks cannot be listed (so `exists=$(pulumi_has_stack pr-12)` under `set -e` stops rather than skipping).
pulumi_has_stack() {
  local stacks
  stacks=$(pulumi stack ls --json) || return 1
  jq -r --arg stack "$1" 'any(.[]; .name == $stack or (.name | endswith("/" + $stack)))' <<<"$stacks"
}

# pulumi_retry_locked <log file> <command…>: runs the command, its output shown and written to the log file;
# when it fails because another run holds the stack (a self-managed backend's lock file, or Pulumi Cloud's
# "409 Conflict"), waits and runs it again. The concurrency groups keep deploys of one stack in order; a
# pull request's `pulumi preview` of staging is not in them and can hold the lock for a minute.
pulumi_retry_locked() {
  local log="$1"
  shift
  local attempts="${PULUMI_LOCK_RETRIES:-10}" delay="${PULUMI_LOCK_RETRY_SECONDS:-30}" attempt=1 code=0
  while true; do
    code=0
    (set -o pipefail && "$@" 2>&1 | tee "$log") || code=$?
    if [ "$code" -eq 0 ]; then return 0; fi
    if [ "$attempt" -ge "$attempts" ] || ! grep -Eq 'the stack is currently locked|Conflict: Another update is currently in progress' "$log"; then
      return "$code"
    fi
    echo "::notice::The stack is in use by another run; attempt $((attempt + 1))/$attempts in ${delay}s"
    attempt=$((attempt + 1))
    sleep "$delay"
  done
}
