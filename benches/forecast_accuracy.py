#!/usr/bin/env python3
"""Accuracy benchmark, not a test: finops' forecaster against statsforecast
(AutoETS, AutoARIMA) and Prophet (with the same event dates as holidays) on
the same rolling-origin splits, for the real Peyton Manning page-view series
and the demo's daily cost and peak concurrent players.

Prints one table: MASE (scale: the series' mean absolute weekly
difference), empirical coverage of the 80 % and 95 % intervals, and the
mean time per fit (finops' includes its own backtest, which is how it
calibrates its intervals).

Usage: benches/forecast_accuracy.py --finops PATH [--shared ../shared/data]
Needs statsforecast, prophet and pandas (benches/forecast.sh installs them).
"""
import argparse
import json
import logging
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import tomllib
import warnings
from datetime import date, timedelta

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")
logging.getLogger("cmdstanpy").setLevel(logging.ERROR)
logging.getLogger("prophet").setLevel(logging.ERROR)

HORIZON = 90
ORIGINS = 10
STEP = HORIZON // 4


def splits(n):
    for k in range(ORIGINS):
        cut = n - HORIZON - k * STEP
        if cut >= 56:
            yield cut


def mase_scale(y):
    d = np.abs(y[7:] - y[:-7])
    return d.mean() if len(d) and d.mean() > 0 else 1.0


# ---------------------------------------------------------------- series
def peyton(shared):
    s = pd.read_csv(os.path.join(shared, "wp-log-peyton-manning.csv"))
    s["ds"] = pd.to_datetime(s["ds"])
    ev = pd.read_csv(os.path.join(shared, "peyton-manning-events.csv"))
    events = []
    for _, r in ev.iterrows():
        start = date.fromisoformat(r["date"])
        events.append({
            "name": f"{r['kind']} {r['date']}",
            "kind": "launch" if r["kind"] == "superbowl" else "platform_event",
            "start": start,
            "end": start + timedelta(days=int(r["upper_window_days"])),
            "ramp_days": abs(int(r["lower_window_days"])),
        })
    return s[["ds", "y"]], events, True


def demo_series(finops, work):
    db = os.path.join(work, "demo.db")
    if not os.path.exists(db):
        subprocess.run([finops, "--database", f"sqlite://{db}", "demo", "--end", "2026-10-31"],
                       check=True, capture_output=True)
    con = sqlite3.connect(db)
    cost = pd.read_sql_query(
        "SELECT day AS ds, SUM(effective_micros) / 1e6 AS y FROM cost_daily WHERE currency = 'USD' GROUP BY day ORDER BY day", con)
    ccu = pd.read_sql_query(
        "SELECT day AS ds, SUM(peak_concurrent_players) * 1.0 AS y FROM player_activity GROUP BY day ORDER BY day", con)
    for df in (cost, ccu):
        df["ds"] = pd.to_datetime(df["ds"])
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "forecasts", "demo-calendar.toml"), "rb") as f:
        cal = tomllib.load(f)
    events = []
    for e in cal.get("event", []):
        events.append({
            "name": e["name"], "kind": e["kind"], "start": e["start"], "end": e["end"],
            "ramp_days": int(e.get("ramp_days", 0)),
            "expected_uplift": e.get("expected_uplift"),
        })
    return [("demo daily cost", cost, events, False), ("demo peak players", ccu, events, False)]


def calendar_toml(events):
    out = []
    for e in events:
        out.append("[[event]]")
        out.append(f'name = "{e["name"]}"')
        out.append(f'kind = "{e["kind"]}"')
        out.append(f"start = {e['start']}")
        out.append(f"end = {e['end']}")
        if e.get("ramp_days"):
            out.append(f"ramp_days = {e['ramp_days']}")
        if e.get("expected_uplift") is not None:
            out.append(f"expected_uplift = {e['expected_uplift']}")
        out.append("")
    return "\n".join(out)


def holidays(events):
    rows = []
    for e in events:
        d = e["start"]
        while d <= e["end"]:
            rows.append({"holiday": e["kind"], "ds": pd.Timestamp(d),
                         "lower_window": -e.get("ramp_days", 0), "upper_window": 3})
            d += timedelta(days=1)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- methods
def run_finops(finops, work, train, events, is_log):
    path = os.path.join(work, "train.csv")
    train.assign(ds=train["ds"].dt.strftime("%Y-%m-%d")).to_csv(path, index=False)
    cal = os.path.join(work, "calendar.toml")
    with open(cal, "w") as f:
        f.write(calendar_toml(events))
    cmd = [finops, "forecast", "--series-csv", path, "--calendar", cal,
           "--horizon-days", str(HORIZON), "--format", "json"]
    if is_log:
        cmd.append("--linear")
    t = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True)
    secs = time.time() - t
    if p.returncode != 0:
        sys.exit(p.stderr)
    pts = json.loads(p.stdout)["series"][0]["points"]
    arr = lambda k: np.array([x[k] for x in pts])
    return arr("mean"), (arr("lower80"), arr("upper80")), (arr("lower95"), arr("upper95")), secs


def run_statsforecast(model_name, train):
    from statsforecast import StatsForecast
    from statsforecast.models import AutoARIMA, AutoETS
    model = AutoETS(season_length=7) if model_name == "AutoETS" else AutoARIMA(season_length=7)
    df = train.assign(unique_id="s")
    t = time.time()
    sf = StatsForecast(models=[model], freq="D", n_jobs=1)
    fc = sf.forecast(df=df, h=HORIZON, level=[80, 95])
    secs = time.time() - t
    col = model_name
    return (fc[col].to_numpy(), (fc[f"{col}-lo-80"].to_numpy(), fc[f"{col}-hi-80"].to_numpy()),
            (fc[f"{col}-lo-95"].to_numpy(), fc[f"{col}-hi-95"].to_numpy()), secs)


def run_prophet(train, events):
    from prophet import Prophet
    t = time.time()
    out = {}
    for level in (0.8, 0.95):
        m = Prophet(holidays=holidays(events), interval_width=level, yearly_seasonality=True,
                    weekly_seasonality=True, daily_seasonality=False)
        m.fit(train)
        future = m.make_future_dataframe(periods=HORIZON, include_history=False)
        out[level] = m.predict(future)
    secs = (time.time() - t) / 2  # one fit per level; report the time of one
    f80, f95 = out[0.8], out[0.95]
    return (f80["yhat"].to_numpy(), (f80["yhat_lower"].to_numpy(), f80["yhat_upper"].to_numpy()),
            (f95["yhat_lower"].to_numpy(), f95["yhat_upper"].to_numpy()), secs)


def evaluate(name, df, events, is_log, finops, work):
    y = df["y"].to_numpy()
    scale = mase_scale(y)
    methods = ["finops", "AutoETS", "AutoARIMA", "Prophet"]
    acc = {m: {"err": [], "naive": [], "in80": 0, "in95": 0, "n": 0, "secs": []} for m in methods}
    for cut in splits(len(df)):
        train = df.iloc[:cut].reset_index(drop=True)
        test = df["y"].iloc[cut:cut + HORIZON].to_numpy()
        train_events = events  # the calendar is known ahead, as in planning
        for m in methods:
            if m == "finops":
                mean, b80, b95, secs = run_finops(finops, work, train, train_events, is_log)
            elif m == "Prophet":
                mean, b80, b95, secs = run_prophet(train, train_events)
            else:
                mean, b80, b95, secs = run_statsforecast(m, train)
            k = min(len(test), len(mean))
            a = acc[m]
            a["err"].extend(np.abs(test[:k] - mean[:k]))
            a["in80"] += int(((test[:k] >= b80[0][:k]) & (test[:k] <= b80[1][:k])).sum())
            a["in95"] += int(((test[:k] >= b95[0][:k]) & (test[:k] <= b95[1][:k])).sum())
            a["n"] += k
            a["secs"].append(secs)
    rows = []
    for m in methods:
        a = acc[m]
        rows.append((name, m, np.mean(a["err"]) / scale, a["in80"] / a["n"], a["in95"] / a["n"], np.mean(a["secs"])))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--finops", required=True)
    ap.add_argument("--shared", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data"))
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="finops-forecast-bench-")
    series = []
    if os.path.exists(os.path.join(args.shared, "wp-log-peyton-manning.csv")):
        df, ev, is_log = peyton(args.shared)
        series.append(("Peyton Manning (log views)", df, ev, is_log))
    series.extend(demo_series(args.finops, work))
    print(f"{ORIGINS} rolling origins, {HORIZON} days ahead, {STEP} days apart; MASE scale: mean |y(t) - y(t-7)|\n")
    print(f"{'series':28} {'method':10} {'MASE':>6} {'cov80':>6} {'cov95':>6} {'s/fit':>7}")
    for name, df, ev, is_log in series:
        for row in evaluate(name, df, ev, is_log, args.finops, work):
            print(f"{row[0]:28} {row[1]:10} {row[2]:6.3f} {row[3]:6.1%} {row[4]:6.1%} {row[5]:7.2f}")


if __name__ == "__main__":
    main()
