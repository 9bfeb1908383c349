#!/usr/bin/env python3
"""The PRL 2026 generative thermodynamic computer from Python: train it on
the three embedded digits (the paper's recipe, thermo train --preset
prl2026), turn thermal noise into digits, and draw the samples and the heat
each one gave to the bath in one figure.

    python3 examples/python/prl_figure.py                  # about a minute
    python3 examples/python/prl_figure.py --tiny           # seconds (CI)
    python3 examples/python/prl_figure.py --model runs/prl2026/model.safetensors

Needs the thermo package (make python) and matplotlib (make deps).
"""
import argparse
import sys

# thermo first: it has the OpenMP runtime that numpy loads wait passively
# (thermo/__init__.py says why).
import thermo
import matplotlib

matplotlib.use("Agg")  # files only: no display needed
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

# Whitelam's PRL reports about 2.9e3 kT of heat per sample for the 784 + 512
# unit computer (science.md section 2).
PAPER_HEAT_KT = 2.9e3


def progress_bar(what):
    def show(done, total):
        if total:
            sys.stderr.write("\r%s %d/%d" % (what, done, total))
            if done == total:
                sys.stderr.write("\n")
    return show


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tiny", action="store_true",
                    help="the tiny preset (7 x 7 pictures, 16 hidden units): seconds")
    ap.add_argument("--model", help="a trained generator to load instead of training")
    ap.add_argument("--data", help="folder of IDX files (default: the preset's)")
    ap.add_argument("--samples", type=int, default=100, help="samples drawn (default 100)")
    ap.add_argument("--out", default="prl_figure.png", help="the PNG (default prl_figure.png)")
    args = ap.parse_args()

    if args.model:
        gen = thermo.Generator.load(args.model)
    else:
        preset = "tiny" if args.tiny else "prl2026"
        kw = {"data": args.data} if args.data else {}
        gen = thermo.Generator.train(preset, progress=progress_bar("updates"), **kw)
    images, heat = gen.sample(args.samples, progress=progress_bar("samples"))
    p = gen.params

    # The grey range thermo train records (the clean digits as the units
    # hold them), else the samples' own 1st to 99th percentile.
    if "picture.lo" in gen.meta:
        lo, hi = float(gen.meta["picture.lo"]), float(gen.meta["picture.hi"])
    else:
        lo, hi = np.percentile(images, [1, 99])
    cols = int(np.ceil(np.sqrt(args.samples)))
    rows = int(np.ceil(args.samples / cols))
    r, c = gen.shape
    grid = np.full((rows * (r + 1) + 1, cols * (c + 1) + 1), hi, np.float32)
    for k in range(args.samples):
        y, x = divmod(k, cols)
        grid[1 + y * (r + 1):1 + y * (r + 1) + r, 1 + x * (c + 1):1 + x * (c + 1) + c] = images[k]

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 5.2),
                                      gridspec_kw={"width_ratios": [1, 1.15]})
    fig.suptitle("Generative thermodynamic computer (Whitelam, PRL 2026): %d visible + %d "
                 "hidden units, kT %g" % (p["n_visible"], p["n_hidden"], p["kT"]))
    left.imshow(grid, cmap="gray", vmin=lo, vmax=hi, interpolation="nearest")
    left.set_title("%d samples from thermal noise (t_f = %g each phase)" % (args.samples,
                                                                           p["t_f"]))
    left.set_xlabel("sample column (%d x %d pixels each)" % (c, r))
    left.set_ylabel("sample row")
    left.set_xticks([])
    left.set_yticks([])

    bins = max(5, min(40, int(np.ceil(np.sqrt(args.samples)))))
    right.hist(heat, bins=bins, color="steelblue", edgecolor="white")
    right.axvline(heat.mean(), color="red", label="mean %.4g kT" % heat.mean())
    if p["n_visible"] == 784 and p["n_hidden"] == 512:
        right.axvline(PAPER_HEAT_KT, color="dimgray", linestyle="--",
                      label="the paper: about %.2g kT" % PAPER_HEAT_KT)
    right.set_title("Heat given to the bath while computing, per sample")
    right.set_xlabel("heat Q (units of kT)")
    right.set_ylabel("samples")
    right.legend()
    fig.tight_layout()
    fig.savefig(args.out, dpi=100)
    print("samples   %d of %d x %d pixels; heat mean %.4g kT, sd %.3g kT per sample"
          % (args.samples, r, c, heat.mean(), heat.std(ddof=1) if args.samples > 1 else 0))
    print("figure    %s" % args.out)


if __name__ == "__main__":
    main()
