-- Where each catalog price came from: the catalog file, an AWS Price List
-- (offer and publication date), or the built-in derived catalog. Empty for
-- rows stored before: they take the catalog's source when loaded.
ALTER TABLE instance_prices ADD COLUMN origin TEXT NOT NULL DEFAULT '';
