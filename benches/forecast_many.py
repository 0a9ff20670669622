#!/usr/bin/env python3
"""Accuracy benchmark over many real series, not a test: finops' forecaster
against statsforecast's AutoETS and AutoARIMA, Prophet and seasonal naive
on the same rolling origins of every series in a data directory (daily,
weekly and monthly series; see benches/forecast_data/).

The series are split in two before any tuning (benches/forecast_data/
split.csv, chosen by a hash of each name): "tuning" and "held-out"; the
summary reports the two parts apart.

Per series: ORIGINS windows of H steps (90 days, 26 weeks or 12 months)
that do not overlap, the last ending on the last value; each method trains
on everything before its window (daily series: at most the last
MAX_DAILY_TRAIN days, the same for every method). MASE's scale is each
training set's in-sample seasonal-naive error (M4's definition); WAPE is
the absolute error over the absolute actuals; coverage is the share of
actuals inside the 80 % and 95 % bands; s/fit is wall time per fit
(finops' includes its own backtests, which is how it chooses its method
and calibrates its bands).

Usage: benches/forecast_many.py --finops PATH --data DIR [--only NAME,...]
       [--json OUT] [--reuse EARLIER.json,...] [--rerun finops]
--reuse takes figures from earlier --json runs over the same data and
windows, and runs again only the methods in --rerun (default finops) and
those the files lack: the peers take hours (AutoARIMA with a 52-week
season minutes a fit), finops alone a few minutes.
Needs statsforecast, prophet and pandas (benches/forecast.sh installs them).
"""
import argparse
import csv
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")
logging.getLogger("cmdstanpy").setLevel(logging.ERROR)
logging.getLogger("prophet").setLevel(logging.ERROR)

ORIGINS = 4
MAX_DAILY_TRAIN = 1095
HORIZON = {"day": 90, "week": 26, "month": 12}
SEASON = {"day": 7, "week": 52, "month": 12}
PANDAS_FREQ = {"day": "D", "week": "W-MON", "month": "MS"}
METHODS = ["finops", "SeasonalNaive", "AutoETS", "AutoARIMA", "Prophet"]


def windows(n, h, min_train):
    for k in range(ORIGINS):
        cut = n - h * (k + 1)
        if cut >= min_train:
            yield cut


def mase_scale(y, m):
    if len(y) <= m:
        return 1.0
    d = np.abs(y[m:] - y[:-m])
    s = d.mean()
    return s if s > 0 else 1.0


def run_finops(finops, work, train, freq, h):
    path = os.path.join(work, "train.csv")
    train.assign(ds=train["ds"].dt.strftime("%Y-%m-%d"))[["ds", "y"]].rename(
        columns={"ds": "date", "y": "value"}).to_csv(path, index=False)
    days = {"day": h, "week": 7 * h, "month": int(h * 30.44)}[freq]
    # Values of zero or below need the linear scale; otherwise log.
    cmd = [finops, "forecast", "--series-csv", path, "--horizon-days", str(days), "--format", "json"]
    if (train["y"] <= 0).any():
        cmd.append("--linear")
    t = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True)
    secs = time.time() - t
    if p.returncode != 0:
        raise RuntimeError(p.stderr.strip())
    s = json.loads(p.stdout)["series"][0]
    pts = s["points"][:h]
    arr = lambda k: np.array([x[k] for x in pts])
    return arr("mean"), (arr("lower80"), arr("upper80")), (arr("lower95"), arr("upper95")), secs, s.get("method")


def run_statsforecast(name, train, freq, h):
    from statsforecast import StatsForecast
    from statsforecast.models import AutoARIMA, AutoETS, SeasonalNaive
    m = SEASON[freq] if len(train) >= 2 * SEASON[freq] else 1
    model = {"AutoETS": AutoETS(season_length=m), "AutoARIMA": AutoARIMA(season_length=m),
             "SeasonalNaive": SeasonalNaive(season_length=m)}[name]
    df = train.assign(unique_id="s")[["unique_id", "ds", "y"]]
    t = time.time()
    sf = StatsForecast(models=[model], freq=PANDAS_FREQ[freq], n_jobs=1)
    fc = sf.forecast(df=df, h=h, level=[80, 95])
    secs = time.time() - t
    return (fc[name].to_numpy(), (fc[f"{name}-lo-80"].to_numpy(), fc[f"{name}-hi-80"].to_numpy()),
            (fc[f"{name}-lo-95"].to_numpy(), fc[f"{name}-hi-95"].to_numpy()), secs, None)


def run_prophet(train, freq, h):
    from prophet import Prophet
    t = time.time()
    out = {}
    for level in (0.8, 0.95):
        m = Prophet(interval_width=level, yearly_seasonality=len(train) * {"day": 1, "week": 7, "month": 30}[freq] >= 730,
                    weekly_seasonality=freq == "day", daily_seasonality=False)
        m.fit(train[["ds", "y"]])
        future = m.make_future_dataframe(periods=h, freq=PANDAS_FREQ[freq], include_history=False)
        out[level] = m.predict(future)
    secs = (time.time() - t) / 2
    f80, f95 = out[0.8], out[0.95]
    return (f80["yhat"].to_numpy(), (f80["yhat_lower"].to_numpy(), f80["yhat_upper"].to_numpy()),
            (f95["yhat_lower"].to_numpy(), f95["yhat_upper"].to_numpy()), secs, None)


def evaluate(name, df, freq, finops, work, methods):
    h = HORIZON[freq]
    m = SEASON[freq]
    y = df["y"].to_numpy()
    min_train = {"day": 365, "week": 104, "month": 36}[freq]
    acc = {k: {"err": 0.0, "scaled": [], "abs_actual": 0.0, "in80": 0, "in95": 0, "n": 0, "secs": [], "chosen": []}
           for k in methods}
    cuts = list(windows(len(df), h, min_train))
    if not cuts:
        return None
    for cut in cuts:
        lo = max(0, cut - MAX_DAILY_TRAIN) if freq == "day" else 0
        train = df.iloc[lo:cut].reset_index(drop=True)
        test = y[cut:cut + h]
        scale = mase_scale(train["y"].to_numpy(), m)
        for k in methods:
            try:
                if k == "finops":
                    mean, b80, b95, secs, chosen = run_finops(finops, work, train, freq, h)
                elif k == "Prophet":
                    mean, b80, b95, secs, chosen = run_prophet(train, freq, h)
                else:
                    mean, b80, b95, secs, chosen = run_statsforecast(k, train, freq, h)
            except Exception as e:  # a method that fails is reported, not hidden
                print(f"  {name}: {k} failed at cut {cut}: {str(e)[:200]}", file=sys.stderr)
                acc[k]["failed"] = True
                continue
            n = min(len(test), len(mean))
            a = acc[k]
            err = np.abs(test[:n] - mean[:n])
            a["err"] += err.sum()
            a["scaled"].append(err.mean() / scale)
            a["abs_actual"] += np.abs(test[:n]).sum()
            a["in80"] += int(((test[:n] >= b80[0][:n]) & (test[:n] <= b80[1][:n])).sum())
            a["in95"] += int(((test[:n] >= b95[0][:n]) & (test[:n] <= b95[1][:n])).sum())
            a["n"] += n
            a["secs"].append(secs)
            if chosen:
                a["chosen"].append(chosen)
    rows = {}
    for k in methods:
        a = acc[k]
        if a.get("failed") or a["n"] == 0:
            rows[k] = None
            continue
        rows[k] = {
            "mase": float(np.mean(a["scaled"])),
            "wape": a["err"] / a["abs_actual"] if a["abs_actual"] > 0 else float("nan"),
            "cov80": a["in80"] / a["n"], "cov95": a["in95"] / a["n"],
            "secs": float(np.mean(a["secs"])),
            "chosen": ",".join(sorted(set(a["chosen"]))),
        }
    return {"name": name, "freq": freq, "origins": len(cuts), "rows": rows}


def load(data, name):
    df = pd.read_csv(os.path.join(data, f"{name}.csv"))
    df = df.rename(columns={"date": "ds", "value": "y"})
    df["ds"] = pd.to_datetime(df["ds"])
    return df.sort_values("ds").reset_index(drop=True)


def summary(results, part, methods):
    rs = [r for r in results if r["part"] == part]
    if not rs:
        return
    print(f"\n{part}: {len(rs)} series")
    print(f"{'method':14} {'mean MASE':>9} {'median':>7} {'mean WAPE':>9} {'cov80':>6} {'cov95':>6} {'s/fit':>7} {'series':>6}")
    complete = [r for r in rs if all(r["rows"].get(k) for k in methods)]
    for k in methods:
        vals = [r["rows"][k] for r in complete]
        if not vals:
            continue
        mase = [v["mase"] for v in vals]
        print(f"{k:14} {np.mean(mase):9.3f} {np.median(mase):7.3f} {np.nanmean([v['wape'] for v in vals]):9.3f} "
              f"{np.mean([v['cov80'] for v in vals]):6.1%} {np.mean([v['cov95'] for v in vals]):6.1%} "
              f"{np.mean([v['secs'] for v in vals]):7.2f} {len(vals):6d}")
    if "finops" in methods and "SeasonalNaive" in methods:
        worse = [r["name"] for r in complete if r["rows"]["finops"]["mase"] > 1.05 * r["rows"]["SeasonalNaive"]["mase"]]
        print(f"finops worse than seasonal naive by more than 5 %: {len(worse)} of {len(complete)}"
              + (f" ({', '.join(worse)})" if worse else ""))
    if len(complete) < len(rs):
        print(f"(left out of the means, a method failed on them: {', '.join(r['name'] for r in rs if r not in complete)})")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--finops", required=True)
    ap.add_argument("--data", required=True, help="directory of NAME.csv files (date,value)")
    ap.add_argument("--split", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "forecast_data", "split.csv"))
    ap.add_argument("--only", default="", help="comma-separated series names")
    ap.add_argument("--part", default="", help="tuning or held-out: that part only")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--json", default="", help="write every figure here too")
    ap.add_argument("--reuse", default="", help="earlier --json runs (comma-separated) to take figures from")
    ap.add_argument("--rerun", default="finops", help="methods run again even when --reuse has them")
    args = ap.parse_args()
    methods = args.methods.split(",")
    earlier = {}
    rerun = set(filter(None, args.rerun.split(",")))
    for path in filter(None, args.reuse.split(",")):
        with open(path) as f:
            for r in json.load(f):
                old = earlier.setdefault(r["name"], {"rows": {}})
                old["rows"].update({k: v for k, v in r["rows"].items() if v is not None})
    only = set(filter(None, args.only.split(",")))
    work = tempfile.mkdtemp(prefix="finops-forecast-many-")
    with open(args.split) as f:
        split = list(csv.DictReader(f))
    results = []
    print(f"{ORIGINS} windows per series that do not overlap; horizons {HORIZON}; MASE per window (M4 scale), averaged\n")
    print(f"{'series':40} {'part':8} {'method':14} {'MASE':>6} {'WAPE':>6} {'cov80':>6} {'cov95':>6} {'s/fit':>6} chosen")
    for s in split:
        if (only and s["name"] not in only) or (args.part and s["part"] != args.part):
            continue
        path = os.path.join(args.data, f"{s['name']}.csv")
        if not os.path.exists(path):
            print(f"{s['name']}: missing from {args.data}", file=sys.stderr)
            continue
        run = [k for k in methods if k in rerun or k not in earlier.get(s["name"], {"rows": {}})["rows"]]
        r = evaluate(s["name"], load(args.data, s["name"]), s["frequency"], args.finops, work, run)
        if r is None:
            print(f"{s['name']}: too short for one window", file=sys.stderr)
            continue
        for k in methods:
            if k not in run:
                r["rows"][k] = earlier[s["name"]]["rows"][k]
        r["part"] = s["part"]
        results.append(r)
        for k in methods:
            v = r["rows"].get(k)
            if v is None:
                print(f"{s['name'][:40]:40} {s['part']:8} {k:14} failed")
                continue
            print(f"{s['name'][:40]:40} {s['part']:8} {k:14} {v['mase']:6.3f} {v['wape']:6.3f} {v['cov80']:6.1%} {v['cov95']:6.1%} {v['secs']:6.2f} {v['chosen']}")
        sys.stdout.flush()
    for part in ("tuning", "held-out"):
        summary(results, part, methods)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
