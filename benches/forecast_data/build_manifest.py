"""Validate every <name>.csv in /work/forecast-data against scripts/meta/<name>.json and write MANIFEST.csv."""
import csv
import glob
import json
import os
import re
import sys

from common import META, OUT

rows, errors = [], []
for mp in sorted(glob.glob(os.path.join(META, "*.json"))):
    m = json.load(open(mp))
    path = os.path.join(OUT, m["name"] + ".csv")
    raw = open(path, "rb").read()
    if b"\r" in raw:
        errors.append(f"{m['name']}: CR line ends")
    lines = raw.decode().split("\n")
    if lines[-1] != "":
        errors.append(f"{m['name']}: no trailing newline")
    lines = lines[:-1]
    if lines[0] != "date,value":
        errors.append(f"{m['name']}: bad header")
    dates = []
    for ln in lines[1:]:
        parts = ln.split(",")
        if len(parts) != 2 or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", parts[0]) or \
                not re.fullmatch(r"-?\d+(\.\d+)?", parts[1]):
            errors.append(f"{m['name']}: bad row {ln!r}")
        dates.append(parts[0])
    if dates != sorted(dates):
        errors.append(f"{m['name']}: not sorted")
    if len(set(dates)) != len(dates):
        errors.append(f"{m['name']}: duplicate dates")
    rows.append([m["name"], m["frequency"], len(dates), dates[0], dates[-1], m["shape"], m["source"],
                 m["licence"], m["notes"]])

extra = {os.path.basename(p)[:-4] for p in glob.glob(os.path.join(OUT, "*.csv"))} - {r[0] for r in rows} - {"MANIFEST"}
if extra:
    errors.append(f"csv files without metadata: {sorted(extra)}")
if errors:
    print("\n".join(errors))
    sys.exit(1)
with open(os.path.join(OUT, "MANIFEST.csv"), "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["name", "frequency", "rows", "first", "last", "shape", "source", "licence", "notes"])
    w.writerows(rows)
print(f"OK {len(rows)} series")
