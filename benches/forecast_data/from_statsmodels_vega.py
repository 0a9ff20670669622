"""Series shipped inside PyPI packages statsmodels 0.15.0 (BSD-3-Clause) and vega_datasets 0.9.0 (MIT).
Both load from files inside the installed package, no network."""
import os

import pandas as pd
import statsmodels.api as sm
import vega_datasets

from common import monday, write_series

# statsmodels co2: weekly Mauna Loa CO2, week dates are Saturdays; 59 weeks are NaN in source.
co2 = sm.datasets.co2.load_pandas().data["co2"]
write_series("mauna_loa_co2_weekly", [monday(d) for d in co2.index], co2.values, "week", "trend",
             "PyPI statsmodels 0.15.0: statsmodels/datasets/co2/co2.csv (sm.datasets.co2)",
             "public domain (per statsmodels co2 COPYRIGHT); statsmodels BSD-3-Clause",
             "column 'co2' (ppmv, weekly mean, Mauna Loa, SIO/CDIAC); source Saturday dates mapped to Monday of "
             "the same ISO week; 59 NaN weeks in source left out (gaps)")

VD = os.path.join(os.path.dirname(vega_datasets.__file__), "_data")
sw = pd.read_csv(os.path.join(VD, "seattle-weather.csv"))
sd = pd.to_datetime(sw["date"], format="%Y/%m/%d")
VSRC = "PyPI vega_datasets 0.9.0: vega_datasets/_data/seattle-weather.csv"
VLIC = "public domain (NOAA data, per vega_datasets dataset_info); vega_datasets MIT"
write_series("seattle_precipitation_daily", sd, sw["precipitation"], "day", "intermittent", VSRC, VLIC,
             "column 'precipitation' (mm/day, Seattle); many exact-zero dry days, wet winters")
write_series("seattle_temp_max_daily", sd, sw["temp_max"], "day", "daily-seasonal", VSRC, VLIC,
             "column 'temp_max' (deg C, daily maximum, Seattle)")

ue = pd.read_csv(os.path.join(VD, "us-employment.csv"))
write_series("us_nonfarm_employment_monthly", ue["month"], ue["nonfarm"], "month", "level-shift",
             "PyPI vega_datasets 0.9.0: vega_datasets/_data/us-employment.csv",
             "public domain (US BLS CES, per vega_datasets dataset_info); vega_datasets MIT",
             "column 'nonfarm': total nonfarm employees, thousands, seasonally adjusted; 2008-09 recession drop "
             "then slow recovery")
