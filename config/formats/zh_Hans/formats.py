# Money reads with thousands separators (¥386,000,000.00), as finance staff write it.
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
