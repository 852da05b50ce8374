"""Wall time of a 21-pairing IPD tournament in-process, on local worker processes and on a
local Ray instance, measured in one run (ratios against in-process).

The tournament is the LOLA paper's (NL-Q, JAL-Q, PHC, WoLF-PHC, NL-Ex, LOLA-Ex: 6 entrants,
21 pairings) with the published script's default length, 50 episodes of 200 rounds, 16
seeds each. Ray's overhead per run is measured on tiny runs (one update of two fixed
strategies) as the extra wall time per run over in-process.

    python benchmarks/bench_tournament.py [--workers 2] [--episodes 50] [--seeds 16] [--no-ray]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import torch


def _tasks(out: str, episodes: int, seeds: int):
    from lola_games.experiments.tournament import entrants, tournament_tasks
    from lola_games.experiments.tournament_presets import PRESETS

    preset = PRESETS["lola-paper-ipd"]
    return tournament_tasks("ipd", entrants(preset.entrants()), out, n_seeds=seeds,
                            n_updates=episodes, gamma=preset.gamma, log_every=10)


def _tiny(out: str, n: int):
    from lola_games.agents import make_agent
    from lola_games.games.registry import get_game
    from lola_games.runner.tasks import RunTask

    game = get_game("ipd").spec()
    return [RunTask(f"tiny{k}", game, (make_agent("tft"), make_agent("alld")),
                    os.path.join(out, f"tiny{k}"), dict(n_seeds=2, n_updates=1, seed=k))
            for k in range(n)]


def _time(tasks, backend) -> float:
    from lola_games.runner.grid import run_grid

    start = time.perf_counter()
    results = run_grid(tasks, backend)
    wall = time.perf_counter() - start
    runs = [r.seconds for r in results.values()]
    print(f"  {backend.describe()}: {wall:.1f} s wall, runs {sum(runs):.1f} s in all "
          f"(longest {max(runs):.1f} s)", flush=True)
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--episodes", type=int, default=50)
    parser.add_argument("--seeds", type=int, default=16)
    parser.add_argument("--tiny", type=int, default=40, help="tiny runs for Ray's overhead")
    parser.add_argument("--no-ray", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    from lola_games.runner.backends import InProcess, LocalProcesses, RayCluster

    print(f"load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as tmp:
        times = {"in-process": _time(_tasks(f"{tmp}/a", args.episodes, args.seeds),
                                     InProcess())}
        times[f"{args.workers} processes"] = _time(
            _tasks(f"{tmp}/b", args.episodes, args.seeds), LocalProcesses(args.workers))
        if not args.no_ray:
            start = time.perf_counter()
            ray = RayCluster("local", num_cpus=args.workers)
            ray_start = time.perf_counter() - start
            try:
                times[f"Ray ({args.workers} CPUs)"] = _time(
                    _tasks(f"{tmp}/c", args.episodes, args.seeds), ray)
                tiny_ray = _time(_tiny(f"{tmp}/d", args.tiny), ray)
            finally:
                ray.close()
            tiny_local = _time(_tiny(f"{tmp}/e", args.tiny), InProcess())
    base = times["in-process"]
    print(f"21 pairings, {args.episodes} episodes of 200 rounds, {args.seeds} seeds each:")
    for name, seconds in times.items():
        print(f"  {name:>18}: {seconds:7.1f} s  ({base / seconds:.2f}x in-process)")
    if not args.no_ray:
        print(f"  Ray start: {ray_start:.1f} s (once); overhead per run: "
              f"{(tiny_ray - tiny_local) / args.tiny * 1000:.0f} ms "
              f"({args.tiny} one-update runs: {tiny_ray:.2f} s on Ray, {tiny_local:.2f} s here)")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
