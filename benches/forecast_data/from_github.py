"""Series copied from public GitHub files (via the read-only repository index). The verbatim file
text is kept in scripts/raw/ (checked: byte length equals the indexed file's total_chars)."""
import os

import pandas as pd

from common import write_series

RAW = os.path.join(os.path.dirname(os.path.abspath(__file__)), "raw")

p = pd.read_csv(os.path.join(RAW, "prophet_example_pedestrians_covid.csv"))
assert os.path.getsize(os.path.join(RAW, "prophet_example_pedestrians_covid.csv")) == 25136
write_series("melbourne_pedestrians_covid_daily", p["ds"], p["y"], "day", "level-shift",
             "GitHub facebook/prophet examples/example_pedestrians_covid.csv @ 30e1472521674a98d5c5c2ab4863b345602fae9a",
             "facebook/prophet repo MIT; underlying City of Melbourne Pedestrian Counting System open data "
             "(licence not stated in the file)",
             "column 'y': daily pedestrian count at a City of Melbourne sensor (Prophet 'handling shocks' example); "
             "COVID lockdowns: collapse from 2020-03-16, second lockdown Jul-Oct 2020, short lockdowns "
             "2021-02-13..17 and 2021-05-28..06-10")
