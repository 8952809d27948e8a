"""A table of the mode-collapse runs under ROOT/<dataset>/<remedy>/seed=N: the latest
eval/metrics_<step>.json of each (`python -m jaxgan.evaluate` writes it), with the step
it scored, so runs stopped early are shown at the checkpoint they reached.

  python launch/gpu_bench/collect_modes.py ROOT
"""

import json
import pathlib
import statistics
import sys

REMEDIES = ("gan", "unrolled5", "unrolled10", "minibatch", "pack2", "pack3", "pack4")


def latest_record(run: pathlib.Path) -> dict | None:
    files = sorted(run.glob("eval/metrics_*.json"), key=lambda p: int(p.stem.split("_")[1]))
    return json.loads(files[-1].read_text()) if files else None


def mean(records: list[dict], key: str) -> str:
    values = [r[key] for r in records if r.get(key) is not None]
    return f"{statistics.mean(values):.3g}" if values else "-"


def main(root: pathlib.Path) -> None:
    columns = ["dataset", "remedy", "seeds", "step", "modes", "hq_pct", "reverse_kl"]
    columns.append("per seed (modes/hq_pct)")
    print("| " + " | ".join(columns) + " |")
    print("|" + " --- |" * len(columns))
    for dataset in sorted(p.name for p in root.iterdir() if p.is_dir()):
        for remedy in REMEDIES:
            runs = sorted((root / dataset / remedy).glob("seed=*"))
            named = [(run.name, latest_record(run)) for run in runs]
            named = [(name, record) for name, record in named if record]
            if not named:
                continue
            records = [record for _, record in named]
            steps = ",".join(str(r["step"]) for r in records)
            each = "; ".join(f"{n}: {r['modes']}/{r['hq_pct']:.3g}" for n, r in named)
            cells = [mean(records, key) for key in ("modes", "hq_pct", "reverse_kl")]
            row = [dataset, remedy, str(len(records)), steps, *cells, each]
            print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main(pathlib.Path(sys.argv[1]))
