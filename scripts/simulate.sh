#!/usr/bin/env bash
# The deterministic simulation of the write engine (docs/simulation.md).
#
#   scripts/simulate.sh --seeds N [--from S]        run seeds S..S+N-1 (default S=1); prints seeds/s,
#                                                   and for a failure the seed, its violations and the
#                                                   shortest schedule that still fails
#   scripts/simulate.sh --seed S [--steps I,J,…] [--trace]
#                                                   replay one seed (only the listed steps), every step
#                                                   printed with --trace
#   --mutation NAME                                 with one of EngineMutation's deliberate defects
#                                                   (debug builds), e.g. ignore-floors
#   --no-build                                      use the test binary as built
#
# A soak: scripts/simulate.sh --seeds 100000
set -euo pipefail
cd "$(dirname "$0")/.."

build=1
unset SIMULATION_SEED SIMULATION_STEPS SIMULATION_TRACE SIMULATION_MUTATION
export SIMULATION_SEEDS=1000 SIMULATION_FROM=1
usage() { sed -n '2,14p' "$0" >&2; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
        --seeds) [ $# -ge 2 ] || usage; SIMULATION_SEEDS="$2"; shift 2 ;;
        --from) [ $# -ge 2 ] || usage; SIMULATION_FROM="$2"; shift 2 ;;
        --seed) [ $# -ge 2 ] || usage; export SIMULATION_SEED="$2"; shift 2 ;;
        --steps) [ $# -ge 2 ] || usage; export SIMULATION_STEPS="$2"; shift 2 ;;
        --trace) export SIMULATION_TRACE=1; shift ;;
        --mutation) [ $# -ge 2 ] || usage; export SIMULATION_MUTATION="$2"; shift 2 ;;
        --no-build) build=0; shift ;;
        *) usage ;;
    esac
done
[ "$build" = 1 ] && swift build --build-tests
exec swift test --skip-build --filter 'SimulationTests.SimulationTests/seeds'
