"""Shared helpers: write a series as date,value CSV plus a metadata JSON used by build_manifest.py."""
import json
import math
import os

import pandas as pd

# Where the series are written: FORECAST_DATA, else ~/.cache/finops-forecast-data.
OUT = os.environ.get("FORECAST_DATA") or os.path.expanduser("~/.cache/finops-forecast-data")
os.makedirs(OUT, exist_ok=True)
META = os.path.join(os.path.dirname(os.path.abspath(__file__)), "meta")

FREQS = {"day", "week", "month", "quarter"}
SHAPES = {"daily-seasonal", "daily-event-driven", "level-shift", "outliers", "intermittent",
          "trend", "weekly", "monthly", "quarterly"}


def fmt(v):
    v = float(v)
    if not math.isfinite(v):
        raise ValueError("non-finite value")
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return repr(round(v, 10)).rstrip("0").rstrip(".") if "e" not in repr(v) else f"{v:.10f}".rstrip("0").rstrip(".")


def rtime_to_date(t, freq):
    """R ts fractional time (e.g. 1969.0833) -> first day of month/quarter."""
    per = {"month": 12, "quarter": 4}[freq]
    k = int(round(float(t) * per))
    year, idx = divmod(k, per)
    month = idx * (12 // per) + 1
    return pd.Timestamp(year=year, month=month, day=1)


def monday(d):
    d = pd.Timestamp(d).normalize()
    return d - pd.Timedelta(days=d.weekday())


def write_series(name, dates, values, freq, shape, source, licence, notes, dropna=True):
    assert freq in FREQS and shape in SHAPES, (freq, shape)
    df = pd.DataFrame({"date": pd.to_datetime(pd.Series(list(dates))).dt.normalize(),
                       "value": pd.to_numeric(pd.Series(list(values)), errors="coerce")})
    if dropna:
        df = df.dropna(subset=["value"])
    assert not df["value"].isna().any(), name
    df = df.sort_values("date").reset_index(drop=True)
    dup = df["date"].duplicated()
    assert not dup.any(), f"{name}: duplicate dates {df.loc[dup, 'date'].head().tolist()}"
    if freq == "month":
        assert (df["date"].dt.day == 1).all(), name
    if freq == "quarter":
        assert ((df["date"].dt.day == 1) & df["date"].dt.month.isin([1, 4, 7, 10])).all(), name
    if freq == "week":
        assert (df["date"].dt.weekday == 0).all(), name
    path = os.path.join(OUT, f"{name}.csv")
    with open(path, "w", newline="\n") as f:
        f.write("date,value\n")
        for d, v in zip(df["date"], df["value"]):
            f.write(f"{d:%Y-%m-%d},{fmt(v)}\n")
    os.makedirs(META, exist_ok=True)
    with open(os.path.join(META, f"{name}.json"), "w") as f:
        json.dump({"name": name, "frequency": freq, "shape": shape, "source": source,
                   "licence": licence, "notes": notes}, f, indent=1)
    print(f"{name}: {len(df)} rows {df['date'].iloc[0]:%Y-%m-%d}..{df['date'].iloc[-1]:%Y-%m-%d}")
    return df
