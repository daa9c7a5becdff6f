#!/bin/sh
# The entry point of a taskmill worker in a container (Dockerfile beside this
# file) or a systemd unit (taskmill-worker.service). It runs in the app's
# directory, where node_modules/ and tasks.js are; Redis comes from
# TASKMILL_REDIS_URL; its arguments are passed on to `taskmill worker`.
#
# `exec` is what matters: it replaces this shell with the worker, so the
# SIGTERM that `docker stop`, Kubernetes or systemd sends reaches the worker
# itself, which stops gracefully (running jobs get --stop-timeout ms, default
# 30 s, then go back to the queue; exit 0). Without `exec`, or through
# `npx taskmill` or `npm run`, the signal stops only the wrapper and the
# worker is orphaned. tests/cli_test.ts runs this file.
set -eu
# Work to do before the worker starts (migrations, secrets into the environment) goes here.
exec node node_modules/taskmill/cli/main.js worker --tasks ./tasks.js "$@"
