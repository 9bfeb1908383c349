#!/usr/bin/env python3
"""What raises the diversity of a class-conditional generator without losing
its accuracy: the study behind the README's table (issue 18).

Each row trains mnist10-cond with one setting changed (thermo train), draws
500 samples and judges them (thermo eval --json): conditional accuracy by the
convolutional judge, within-class diversity (plain, and after a 3x3 blur,
which pixel noise cannot raise), the Frechet distance against its floor, the
contrast-inverted share, and the heat per sample. Then it writes

    runs/study/study.csv        one line per row
    runs/study/study.md         the README's table
    docs/diversity_study.png    accuracy against diversity, one line per knob

A row whose runs/study/NAME/eval.json exists is not run again, so an
interrupted study resumes, and --redraw only rewrites the table and chart.

    /usr/bin/python3 examples/python/diversity_study.py [--rows a,b] [--redraw]

Needs the judge (thermo classifier train --arch judge --out
runs/judge-mnist.safetensors) and MNIST in data/mnist (make data). Each row
takes 30 s to 5 min on two cores.
"""
import argparse
import csv
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, os.pardir, os.pardir))
sys.path.insert(0, os.path.join(ROOT, "python"))

import thermo.chart  # noqa: E402  (after the path is set)

# Every row starts from mnist10-cond as it was before the study: the class
# biases unpenalised (--class-ridge 0; the preset now has 0.01).
BASE = ["--preset", "mnist10-cond", "--samples", "500", "--class-ridge", "0"]
# (name, knob, value shown, extra train options, what it tests)
ROWS = [
    ("base", "preset", "", [], "mnist10-cond before: ridge 1, t_f 0.625, S = 1, class biases free"),
    ("ridge03", "ridge", 0.3, ["--ridge", "0.3"], "ridge 0.3 per path"),
    ("ridge01", "ridge", 0.1, ["--ridge", "0.1"], "ridge 0.1 per path"),
    ("stride2", "data", 5, ["--stride", "2"], "every 2nd step of a path (5x the rows)"),
    ("paths4k", "data", 2, ["--paths", "4000"], "2 noising paths per image"),
    ("i10k_r01", "data", 10000, ["--images", "10000", "--ridge", "0.1"],
     "10,000 images, ridge 0.1"),
    ("i60k_r01", "data", 60000, ["--images", "60000", "--ridge", "0.1"],
     "60,000 images, ridge 0.1"),
    ("s2", "segments", 2, ["--segments", "2"], "2 segments"),
    ("s4", "segments", 4, ["--segments", "4"], "4 segments"),
    ("s8", "segments", 8, ["--segments", "8"], "8 segments"),
    ("s8_r01", "segments", 8, ["--segments", "8", "--ridge", "0.1"], "8 segments, ridge 0.1"),
    ("s8_tf25", "segments", 8, ["--segments", "8", "--t-f", "2.5"], "8 segments, t_f 2.5"),
    ("tf03", "t_f", 0.3, ["--t-f", "0.3"], "t_f 0.3"),
    ("tf125", "t_f", 1.25, ["--t-f", "1.25"], "t_f 1.25"),
    ("tf25", "t_f", 2.5, ["--t-f", "2.5"], "t_f 2.5"),
    ("hid1024", "hidden", 1024, ["--hidden", "1024"], "1024 hidden units"),
    ("d4", "noise schedule", 4, ["--drive", "4"], "noise schedule: drive 4 (2 before)"),
    ("base_ro200", "readout", 200, ["--readout-window", "200"],
     "readout: the pixels averaged over the last 200 steps"),
    ("cr003", "class ridge", 0.003, ["--class-ridge", "0.003"], "class-bias ridge 0.003"),
    ("cr001", "class ridge", 0.01, ["--class-ridge", "0.01"],
     "class-bias ridge 0.01 (the one-code preset)"),
    ("cr002", "class ridge", 0.02, ["--class-ridge", "0.02"], "class-bias ridge 0.02"),
    ("cr005", "class ridge", 0.05, ["--class-ridge", "0.05"], "class-bias ridge 0.05"),
    ("cr01", "class ridge", 0.1, ["--class-ridge", "0.1"], "class-bias ridge 0.1"),
    ("cr001_s8", "class ridge 0.01 + segments", 8, ["--class-ridge", "0.01", "--segments", "8"],
     "class-bias ridge 0.01, 8 segments"),
    ("cr001_r03", "class ridge 0.01 + ridge", 0.3, ["--class-ridge", "0.01", "--ridge", "0.3"],
     "class-bias ridge 0.01, ridge 0.3"),
    ("dw_cr0", "hidden double wells", 0, ["--hidden-double-well"],
     "hidden units in double wells"),
    ("dw_cr003", "hidden double wells", 0.003, ["--hidden-double-well", "--class-ridge", "0.003"],
     "hidden double wells, class-bias ridge 0.003"),
    ("dw", "hidden double wells", 0.01, ["--hidden-double-well", "--class-ridge", "0.01"],
     "hidden double wells, class-bias ridge 0.01"),
]

FIELDS = ["name", "knob", "value", "setting", "accuracy", "worst_class", "diversity",
          "diversity_real", "diversity_blur", "diversity_blur_real", "frechet", "frechet_floor",
          "inverted", "heat_kT"]


def run(cmd, log):
    with open(log, "w") as f:
        rc = subprocess.call(cmd, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT)
    if rc != 0:
        sys.exit("diversity_study: %s failed (exit %d); see %s" % (cmd[1], rc, log))


def measure(name, extra, thermo_bin):
    out = os.path.join("runs", "study", name)
    ev = os.path.join(ROOT, out, "eval.json")
    if not os.path.exists(ev):
        os.makedirs(os.path.join(ROOT, out), exist_ok=True)
        print("diversity_study: %s: thermo train %s" % (name, " ".join(BASE + extra)),
              flush=True)
        run([thermo_bin, "train", "--data", "data/mnist"] + BASE + extra +
            ["--out", out, "--quiet"], os.path.join(ROOT, out, "train.log"))
        run([thermo_bin, "eval", "--samples", os.path.join(out, "samples.safetensors"),
             "--json", os.path.join(out, "eval.json"), "--quiet"],
            os.path.join(ROOT, out, "eval.txt"))
    with open(ev) as f:
        return json.load(f)


def row_values(row, e):
    name, knob, value, extra, setting = row
    cond = e["conditional"]
    worst = min(g / r for g, r in zip(cond["granted"], cond["requested"]) if r)
    d = e["diversity"]
    return {"name": name, "knob": knob, "value": value, "setting": setting,
            "accuracy": 100 * cond["mean_accuracy"], "worst_class": 100 * worst,
            "diversity": d["samples"], "diversity_real": d["real_training_images"],
            "diversity_blur": d.get("samples_blurred"),
            "diversity_blur_real": d.get("real_blurred"),
            "frechet": e["frechet"]["distance"], "frechet_floor": e["frechet"]["floor"],
            "inverted": 100 * e["inverted_share"], "heat_kT": e.get("heat_per_sample_kT")}


def table(rows):
    lines = ["| setting | accuracy | worst class | diversity (x real) | after blur (x real) "
             "| Frechet (x floor) | heat (kT) |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append("| %s | %.1f%% | %.0f%% | %.3f (%.2f) | %.3f (%.2f) | %.0f (%.1f) | %.0f |" % (
            r["setting"], r["accuracy"], r["worst_class"], r["diversity"],
            r["diversity"] / r["diversity_real"], r["diversity_blur"],
            r["diversity_blur"] / r["diversity_blur_real"], r["frechet"],
            r["frechet"] / r["frechet_floor"], r["heat_kT"]))
    return "\n".join(lines) + "\n"


def chart(rows, path):
    """Accuracy against the blurred diversity: the knobs swept over several
    values as lines (in the order of their values), single settings as
    points, the preset before the study as a black point."""
    groups = {}
    for r in rows:
        groups.setdefault(r["knob"], []).append(r)
    colours = thermo.chart.PALETTE + [(188, 189, 34), (227, 119, 194), (0, 0, 128),
                                      (128, 0, 0)]
    series = []
    for k, (knob, rs) in enumerate(groups.items()):
        rs = sorted(rs, key=lambda r: float(r["value"]) if r["value"] != "" else 0.0)
        label = knob if len(rs) > 1 else rs[0]["setting"]
        series.append({"x": [r["diversity_blur"] / r["diversity_blur_real"] for r in rs],
                       "y": [r["accuracy"] for r in rs], "markers": True, "label": label,
                       "rgb": (0, 0, 0) if knob == "preset" else colours[k % len(colours)]})
    series.append({"kind": "hline", "y": [95.0], "dashed": True, "rgb": (0, 0, 0),
                   "label": "accuracy target 95%"})
    thermo.chart.draw(path, series, title="mnist10-cond: accuracy against diversity of shape, "
                      "500 samples a setting",
                      x_title="within-class diversity after a 3x3 blur / real MNIST's",
                      y_title="conditional accuracy by the CNN judge (%)",
                      x_range=(0, 2), y_range=(20, 110), x_ticks=9, y_ticks=10,
                      width=900, height=560,
                      legend="bottom left")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", help="only these rows (comma separated names)")
    ap.add_argument("--redraw", action="store_true", help="table and chart from runs/study")
    ap.add_argument("--thermo", default=os.path.join(ROOT, "build", "thermo"))
    a = ap.parse_args()
    want = set(a.rows.split(",")) if a.rows else None
    rows = []
    for row in ROWS:
        if want and row[0] not in want:
            continue
        ev = os.path.join(ROOT, "runs", "study", row[0], "eval.json")
        if a.redraw and not os.path.exists(ev):
            continue
        rows.append(row_values(row, measure(row[0], row[3], a.thermo)))
    if not rows:
        sys.exit("diversity_study: no rows to show")
    with open(os.path.join(ROOT, "runs", "study", "study.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, FIELDS)
        w.writeheader()
        w.writerows(rows)
    md = table(rows)
    with open(os.path.join(ROOT, "runs", "study", "study.md"), "w") as f:
        f.write(md)
    print(md)
    chart(rows, os.path.join(ROOT, "docs", "diversity_study.png"))
    print("wrote runs/study/study.csv, runs/study/study.md, docs/diversity_study.png")


if __name__ == "__main__":
    main()
