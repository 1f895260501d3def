"""fastpar's drop-in against golden files of any scenario-set directory.

tests/test_finiex_parity.py holds fastpar to the goldens of our own sets.
This script does the same for sets we do not ship (the sets a
FiniexTestingIDE checkout ships, for one): run oracle.py on them first,
then

    python tests/finiex/compare.py <sets dir> <golden dir> [--cwd <checkout>]

Every set of the golden directory is loaded from the sets directory and
run through fastpar's BatchOrchestrator (sequentially and on the native
pool) on the generated data of tests/data/finiex; each scenario must fail
where the real code failed and otherwise report the same numbers. The
working directory (``--cwd``) is where the sets' relative broker paths
resolve. Exits non-zero on any difference.
"""

import argparse
import json
import os
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TESTS))

import test_finiex_parity as parity  # noqa: E402  (the comparison the tests use)
from fastpar.scenario_config import ScenarioConfigLoader  # noqa: E402
from fastpar.ticks import TickDataLoader  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sets", type=Path)
    ap.add_argument("golden", type=Path)
    ap.add_argument("--cwd", type=Path, default=Path.cwd())
    args = ap.parse_args(argv)
    sets, golden_dir = args.sets.resolve(), args.golden.resolve()
    os.chdir(args.cwd)
    loader = TickDataLoader(parity.DATA)
    total = differ = 0
    for path in sorted(golden_dir.glob("*.json")):
        golden = json.loads(path.read_text())
        if golden["load_error"]:
            try:
                ScenarioConfigLoader(sets).load_config(path.name)
            except ValueError as e:
                print(f"{path.name}: refused by both ({e})")
            else:
                differ += 1
                print(f"{path.name}: loaded, the real code refused it: {golden['load_error']}")
            continue
        scenarios = ScenarioConfigLoader(sets).load_config(path.name)
        for mode in ("sequential", "native"):
            summary, stats, results = parity.run_orchestrator(scenarios, loader, mode)
            for g, entry in zip(golden["scenarios"], summary["scenario_results"], strict=True):
                total += 1
                real_ok = "success" in g["result"]
                if real_ok != ("success" in entry):
                    differ += 1
                    print(f"{path.name} {mode} {g['name']}: real {g['result']}, fastpar {entry}")
                elif real_ok:
                    problems = parity.compare(stats[g["index"]], results[g["index"]], g, g["name"])
                    differ += bool(problems)
                    for p in problems[:10]:
                        print(f"{path.name} {mode} {p}")
    print(f"{total} scenario runs, {differ} differing")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
