-- The instance catalog recommendations price with (replaced as a whole by
-- `finops catalog import FILE`): instance and fleet types, and their hourly
-- prices per region and offer, in micro-units of the currency.
CREATE TABLE instance_types (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    service TEXT NOT NULL,
    instance_type TEXT NOT NULL,
    family TEXT NOT NULL,
    generation INTEGER NOT NULL,
    vcpu REAL NOT NULL,
    memory_gib REAL NOT NULL,
    UNIQUE (service, instance_type)
);

-- offer: on_demand, compute_sp, ec2_instance_sp or reserved; term_years 0
-- and payment '' for on demand. hourly_micros is the effective hourly rate
-- (upfront amortised over the term).
CREATE TABLE instance_prices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    service TEXT NOT NULL,
    instance_type TEXT NOT NULL,
    region TEXT NOT NULL,
    offer TEXT NOT NULL,
    term_years INTEGER NOT NULL,
    payment TEXT NOT NULL,
    currency TEXT NOT NULL,
    hourly_micros BIGINT NOT NULL,
    UNIQUE (service, instance_type, region, offer, term_years, payment)
);

-- Commitments already bought. kind: compute_sp, ec2_instance_sp or
-- reserved; region and family '' where the commitment is not scoped to one.
-- hourly_commitment_micros: what is paid per hour (upfront amortised).
CREATE TABLE commitments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    commitment_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    region TEXT NOT NULL,
    family TEXT NOT NULL,
    instance_type TEXT NOT NULL,
    instance_count INTEGER NOT NULL,
    hourly_commitment_micros BIGINT NOT NULL,
    term_years INTEGER NOT NULL,
    payment TEXT NOT NULL,
    start_date TEXT NOT NULL,
    end_date TEXT NOT NULL,
    source TEXT NOT NULL
);

-- AWS Cost Explorer's own recommendations, as last pulled (one pull per
-- kind and parameters replaces the previous one).
CREATE TABLE aws_advice (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    parameters TEXT NOT NULL,
    scope TEXT NOT NULL,
    region TEXT NOT NULL,
    current TEXT NOT NULL,
    recommended TEXT NOT NULL,
    hourly_commitment_micros BIGINT,
    monthly_savings_micros BIGINT NOT NULL,
    expected_utilisation REAL,
    currency TEXT NOT NULL,
    pulled_at TEXT NOT NULL
);
